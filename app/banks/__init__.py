"""Question banks: the question model, the bank formats, and their importers and exporters."""
