"""Full-text search across the lessons' official text, with results linking to the passage.

The search is a literal substring search: the words a person types are looked for exactly
as typed (ignoring case), which suits Chinese, where there are no spaces between words.

- SQLite: an FTS5 table `lesson_search` with the trigram tokenizer finds the candidate
  lessons for queries of 3 characters or more; the sync rebuilds it (see sync_course).
  Shorter queries can't use trigrams and fall back to LIKE.
- PostgreSQL: ILIKE on the lesson table. If the pg_trgm extension could be installed, the
  migration added trigram GIN indexes that ILIKE uses by itself; without it the same query
  scans the (small) lesson table. PostgreSQL's own full-text search does not segment
  Chinese, so it is not used.

Either way the lesson's own text is checked with LIKE/ILIKE, so every result really
contains the query, and results are ranked by how often it occurs (title hits count more).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from litestar import Request, Router, get
from litestar.params import FromQuery
from litestar.response import Template
from markupsafe import Markup, escape

from app.db import DB, is_sqlite
from app.tables import Lesson

MAX_RESULTS = 50
MAX_QUERY_LENGTH = 100
SNIPPET_LENGTH = 60  # characters of context shown around the first hit
TRIGRAM = 3  # the shortest query the FTS5 trigram index can answer


async def rebuild_search_index() -> None:
    """Make the search index hold exactly the active lessons (called inside sync_course's
    transaction). PostgreSQL searches the lesson table itself and needs nothing here."""
    if not is_sqlite():
        return
    await DB.run_ddl("DELETE FROM lesson_search")
    await DB.run_ddl(
        "INSERT INTO lesson_search (lesson_id, title, body) "
        "SELECT id, title, body FROM lesson WHERE active"
    )


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with `\\`, `%` and `_` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_phrase(text: str) -> str:
    """`text` as one FTS5 string: its operators (OR, *, quotes, brackets) lose their meaning."""
    return '"' + text.replace('"', '""') + '"'


def _occurrences(column: str) -> str:
    """SQL counting the characters of `column` taken up by the query (both engines)."""
    return (
        f"(length(lower({column})) - "
        f"length(replace(lower({column}), lower(CAST({{}} AS TEXT)), '')))"
    )


async def search_lessons(query: str, limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
    """Active lessons (in active modules) containing `query`, best first; at most `limit`."""
    query = query.strip()[:MAX_QUERY_LENGTH]
    if not query:
        return []
    like = "LIKE" if is_sqlite() else "ILIKE"
    score = f"({_occurrences('l.title')} * 3 + {_occurrences('l.body')})"
    where = f"(l.title {like} {{}} ESCAPE '\\' OR l.body {like} {{}} ESCAPE '\\')"
    args: list[Any] = [query, query, like_pattern(query), like_pattern(query)]
    if is_sqlite() and len(query) >= TRIGRAM:
        where += " AND l.id IN (SELECT lesson_id FROM lesson_search WHERE lesson_search MATCH {})"
        args.append(fts_phrase(query))
    sql = (
        "SELECT l.id, l.slug, l.title, l.source_ref, l.body, "
        "m.slug AS module_slug, m.title AS module_title, "
        f"{score} AS score "
        "FROM lesson l JOIN course_module m ON m.id = l.module "
        f"WHERE l.active AND m.active AND {where} "
        "ORDER BY score DESC, m.sort_order, l.sort_order, l.id "
        "LIMIT {}"
    )
    return await Lesson.raw(sql, *args, limit)


def snippet(text: str, query: str, length: int = SNIPPET_LENGTH) -> Markup:
    """About `length` characters of `text` around the first hit of `query`, escaped, with
    every hit in it wrapped in <mark>. Without a hit in `text`, its beginning."""
    text = re.sub(r"\s+", " ", text).strip()
    query = re.sub(r"\s+", " ", query).strip()
    pattern = re.compile(re.escape(query), re.IGNORECASE) if query else None
    first = pattern.search(text) if pattern else None
    if first is None:
        start = 0
    else:
        before = max(0, (length - len(query)) // 3)
        start = max(0, min(first.start() - before, len(text) - length))
    end = min(len(text), start + max(length, len(query)))
    window = text[start:end]
    parts = [Markup("…") if start > 0 else Markup("")]
    position = 0
    for hit in pattern.finditer(window) if pattern else ():
        parts += [escape(window[position : hit.start()]), Markup("<mark>%s</mark>") % hit.group()]
        position = hit.end()
    parts += [escape(window[position:]), Markup("…") if end < len(text) else Markup("")]
    return Markup("").join(parts)


@dataclass(frozen=True)
class SearchResult:
    module_slug: str
    module_title: str
    lesson_slug: str
    title: str
    source_ref: str
    snippet: Markup


@get("/course/search", name="course_search")
async def search_page(request: Request, q: FromQuery[str] = "") -> Template:
    query = q.strip()[:MAX_QUERY_LENGTH]
    rows = await search_lessons(query, MAX_RESULTS + 1) if query else []
    results = [
        SearchResult(
            module_slug=row["module_slug"],
            module_title=row["module_title"],
            lesson_slug=row["slug"],
            title=row["title"],
            source_ref=row["source_ref"],
            snippet=snippet(row["body"], query),
        )
        for row in rows[:MAX_RESULTS]
    ]
    return Template(
        "lessons/search.html",
        context={"q": query, "results": results, "more": len(rows) > MAX_RESULTS},
    )


router = Router(path="/", route_handlers=[search_page])
