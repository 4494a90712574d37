"""Reporting back to the city federation: each unit's 工作台账, report rounds, the unit's
学习贯彻情况报告 (.docx) with its figures frozen when submitted, and the city's roll-up."""
