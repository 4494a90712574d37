"""Reports: the dashboard and, per training, the completion summary (汇总表), the roster
(花名册) and the list of cadres to remind (催学名单), as pages to print, .xlsx and .csv.

- `strokes`: ordering names by 姓氏笔画 (Unihan kTotalStrokes) or pinyin (pure)
- `summary`: figures per unit rolled up through the tree, the chart's bars (pure)
- `rows`: the cells of every row (pure)
- `queries`: the scoped SQL: aggregates per unit, roster rows a page of units at a time
- `writers`: streaming .xlsx (xlsxwriter, constant_memory) and .csv (UTF-8 with BOM)
- `report`: one training's report as asked for (`prepare`, checked against the scope) and
  the rows its pages and files share
- `dashboard`: the 完成情况总览; `pages`: each training's printable pages; `files`: their
  .xlsx and .csv downloads; `routes`: what the site includes

The JSON API (app/api/v1.py) serves the same figures and rows, through the same functions:
`queries.load_breakdown` for the figures per unit (rolled up by `summary.Breakdown`, shown
by `rows.figure_cells`), `queries.roster_slice` for a page of the 花名册.
"""
