"""``make bench``: what each page costs in-process, against floors measured in the same run.

    .venv/bin/python -m benchmarks.in_process [--sizes 100k 1m] [--databases sqlite postgresql]
        [--pages explore hover] [--quick] [--requests 200] [--json .bench/results.json]

For each database (SQLite; PostgreSQL too when BENCH_DATABASE_URL is set) and size, the
dataset is made or reused (benchmarks/datasets.py), and every page below is requested through
``app.test_client()`` as a signed-in reader who follows 100 people, 25 posts a page as the
floors show: a warm-up, then ``--requests`` requests (fewer if they take over 20 s), taken in
turn with requests of the page's floor (benchmarks/floor.py), so both meet the same moments of
a shared machine. Printed and written as JSON: median and p95 ms, requests per second, SQL
statements per request, the floor's median beside the page's and their ratio, the issue's
targets (MET / NOT MET) and, with both sizes, the 1M/100k ratio. Every response must have the
expected status, so a broken page cannot pass as fast.
"""

import argparse
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import (
    NEWEST,
    POST_MAX_LENGTH,
    Post,
    Role,
    Tag,
    User,
    UserSession,
    search_posts,
)
from app.models.feed import timeline_condition
from app.search_query import SearchQuery
from benchmarks.datasets import (
    BENCH_DIR,
    DATABASE_NAMES,
    DATABASES,
    FOLLOWS,
    Dataset,
    add_dataset_arguments,
    chosen_datasets,
    dataset,
    prepare,
)
from benchmarks.floor import create_floor_app

MAX_SECONDS = 20  # per page, after the warm-up
MIN_REQUESTS = 20  # even when a page is slower than MAX_SECONDS / --requests
WARM_UP = 10
# The targets.
MAX_GROWTH = 1.3  # any page, 1M posts against 100k
MAX_LAST_PAGE_RATIO = 1.5  # the last explore page against explore page 1


@dataclass
class Context:
    """What the page paths are made of, looked up once per dataset."""

    reader: str
    reader_last_page: int
    prolific: str
    explore_last_page: int
    thread_post: int | None  # a reply with replies of its own: both sides of a thread
    newest_post: int  # the cursor of an explore page that is up to date
    newest_on_timeline: int  # the reader's home page's
    common_tag: str | None  # the most used tag, and one used about a hundredth as often
    rare_tag: str | None
    rare_word: str | None  # a word in a few posts (the seed's vocabulary is of common words)
    page_2000_link: str | None = None  # the rel="next" link of explore page 1,999
    etag: str | None = None  # the hover card's, from its first answer
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    name: str
    path: Callable[[Context], str | None]  # None: skipped (the context's notes say why)
    floor: str  # the floor it is compared with: "join", "template" or "bare"
    max_ratio: float | None  # None: judged by max_ms instead
    max_statements: int
    headers: Callable[[Context], dict[str, str]] | None = None
    # 304 when the first answer carried an ETag: see expected_status().
    revalidated: bool = False
    max_ms: float | None = None  # a bound on the median itself
    visitor: bool = False  # asked signed out


FEED = {"floor": "join", "max_ratio": 3.0, "max_statements": 4}
HOVER = {"floor": "template", "max_ratio": 1.5, "max_statements": 3}
CONVERSATION = {"floor": "join", "max_ratio": 3.0, "max_statements": 5}
SEARCH = {"floor": "join", "max_ratio": 10.0, "max_statements": 5}
# The admin area: a handful of readers, read now and then; ten times the floor at most.
ADMIN = {"floor": "join", "max_ratio": 10.0, "max_statements": 6}
# An open page's check for what is new, when nothing is: under a millisecond, one statement.
LIVE_CHECK = {"floor": "bare", "max_ratio": None, "max_ms": 1.0, "max_statements": 1}


def up_to_date(feed: str) -> Callable[[Context], str]:
    def path(c: Context) -> str:
        newest = c.newest_on_timeline if feed == "timeline" else c.newest_post
        return f"/live/check?feed={feed}&after={newest}"

    return path


PAGES = [
    Page("home p1", lambda c: "/", **FEED),
    Page("explore p1", lambda c: "/explore", **FEED),
    Page("explore p2000 (?page=2000)", lambda c: "/explore?page=2000", **FEED),
    Page("explore p2000 (rel=next of p1999)", lambda c: c.page_2000_link, **FEED),
    Page("explore last page", lambda c: f"/explore?page={c.explore_last_page}", **FEED),
    Page("profile p1 (reader)", lambda c: f"/user/{c.reader}", **FEED),
    Page(
        "profile last page (reader)",
        lambda c: f"/user/{c.reader}?page={c.reader_last_page}",
        **FEED,
    ),
    Page("profile p1 (prolific user)", lambda c: f"/user/{c.prolific}", **FEED),
    Page("hover card", lambda c: f"/user/{c.prolific}/popup", **HOVER),
    Page(
        "hover card again (If-None-Match)",
        lambda c: f"/user/{c.prolific}/popup",
        headers=lambda c: {"If-None-Match": c.etag} if c.etag else {},
        revalidated=True,
        **HOVER,
    ),
    Page("following list (reader)", lambda c: f"/user/{c.reader}/following", **FEED),
    Page(
        "thread (a reply with replies)",
        lambda c: f"/post/{c.thread_post}" if c.thread_post else None,
        **CONVERSATION,
    ),
    Page("notifications (reader)", lambda c: "/notifications", **CONVERSATION),
    Page(
        "tag page (the most used tag)",
        lambda c: f"/tag/{c.common_tag}" if c.common_tag else None,
        **CONVERSATION,
    ),
    Page(
        "tag page (a rare tag)",
        lambda c: f"/tag/{c.rare_tag}" if c.rare_tag else None,
        **CONVERSATION,
    ),
    Page(
        "search posts, a common word (best match)",
        lambda c: f"/search?q={c.common_tag}" if c.common_tag else None,
        **SEARCH,
    ),
    Page(
        "search posts, a common word (newest)",
        lambda c: f"/search?q={c.common_tag}&sort=newest" if c.common_tag else None,
        **SEARCH,
    ),
    Page(
        "search posts, two common words",
        lambda c: f"/search?q={c.common_tag}+{c.rare_tag}" if c.rare_tag else None,
        **SEARCH,
    ),
    Page(
        "search posts, a rare word",
        lambda c: f"/search?q={c.rare_word}" if c.rare_word else None,
        **SEARCH,
    ),
    Page("search posts, a word in no post", lambda c: "/search?q=zyzzyva", **SEARCH),
    Page(
        "search people (name prefix, about-me words)",
        lambda c: f"/search?q={c.reader[:3]}&type=people",
        **SEARCH,
    ),
    Page(
        "search tags (prefix)",
        lambda c: f"/search?q={c.common_tag[:2]}&type=tags" if c.common_tag else None,
        **SEARCH,
    ),
    Page("admin dashboard (30 days of sign-ups and posts)", lambda c: "/admin/", **ADMIN),
    Page("admin report queue", lambda c: "/admin/reports", **ADMIN),
    Page("admin users (newest first)", lambda c: "/admin/users", **ADMIN),
    Page("admin users (a name prefix)", lambda c: f"/admin/users?q={c.reader[:3]}", **ADMIN),
    Page("admin audit log", lambda c: "/admin/audit", **ADMIN),
    Page("live check, nothing new (timeline)", up_to_date("timeline"), **LIVE_CHECK),
    Page("live check, nothing new (explore)", up_to_date("explore"), **LIVE_CHECK),
    Page("live check, nothing new (visitor)", up_to_date("explore"), visitor=True, **LIVE_CHECK),
]

FLOORS = {
    "bare": "floor: bare route",
    "template": "floor: template",
    "join": "floor: one join + template",
}


@dataclass
class Timing:
    requests: int
    median_ms: float
    p95_ms: float
    rps: float
    statements: int  # median per request (a once-a-minute last_seen write is not the page's)
    statements_max: int
    status: int


class RelNextLink(HTMLParser):
    """The href of the first <a rel="next">."""

    def __init__(self) -> None:
        super().__init__()
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and self.href is None and "next" in (values.get("rel") or "").split():
            self.href = values.get("href")


@dataclass
class Target:
    """One path to time, through a client (and the engine whose statements it counts)."""

    client: FlaskClient
    path: str
    engine: sa.Engine | None = None
    headers: dict[str, str] | None = None
    expected: int = 200


def measure(*targets: Target, requests: int, max_seconds: float = MAX_SECONDS) -> list[Timing]:
    """Each target's timing, their requests taken in turn (one of each, again and again): a
    page and its floor then meet the same moments of a shared machine, and the ratio of their
    medians holds still while each median drifts."""
    statements = 0

    def count(*args) -> None:
        nonlocal statements
        statements += 1

    for target in targets:
        for _ in range(WARM_UP):
            check(target.client.get(target.path, headers=target.headers), target)
    engines = {target.engine for target in targets if target.engine is not None}
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", count)
    timings: list[list[float]] = [[] for _ in targets]
    counts: list[list[int]] = [[] for _ in targets]
    gc.collect()
    try:
        started = time.perf_counter()
        while len(timings[0]) < requests:
            for target, spent, counted in zip(targets, timings, counts, strict=True):
                statements = 0
                before = time.perf_counter()
                response = target.client.get(target.path, headers=target.headers)
                spent.append(time.perf_counter() - before)
                counted.append(statements)
                check(response, target)
            if len(timings[0]) >= MIN_REQUESTS and time.perf_counter() - started > max_seconds:
                break
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", count)
    return [
        timing(spent, counted, target.expected)
        for target, spent, counted in zip(targets, timings, counts, strict=True)
    ]


def timing(spent: list[float], counts: list[int], status: int) -> Timing:
    spent = sorted(spent)
    return Timing(
        requests=len(spent),
        median_ms=statistics.median(spent) * 1000,
        p95_ms=spent[min(len(spent) - 1, math.ceil(0.95 * len(spent)) - 1)] * 1000,
        rps=len(spent) / sum(spent),
        statements=round(statistics.median(counts)),
        statements_max=max(counts),
        status=status,
    )


def check(response, target: Target) -> None:
    if response.status_code != target.expected:
        raise SystemExit(
            f"GET {target.path} answered {response.status_code}, not {target.expected}."
        )


RARE = 200  # posts at most


def rare_word() -> str | None:
    """A word in at least one post and at most RARE. The seed writes from a vocabulary of
    common words, but cuts long posts short: the cut end of a word is rare. Looked for among
    the last words of the newest posts cut short."""
    ends = db.session.scalars(
        sa.select(Post.body)
        .where(sa.func.length(Post.body) == POST_MAX_LENGTH)
        .order_by(Post.id.desc())
        .limit(500)
    )
    for body in ends:
        word = body.split()[-1]
        if not word.isalpha():
            continue
        found = search_posts(SearchQuery.parse(word), NEWEST, None, 0, 1)
        if 0 < found.total <= RARE:
            return word
    return None


def sign_in_reader(app: Flask) -> tuple[FlaskClient, Context]:
    """A client signed in as a seeded user following 100 people, and the pages' context."""
    with app.app_context():
        reader = db.session.scalar(
            sa.select(User).where(User.following_count == FOLLOWS).order_by(User.id).limit(1)
        )
        if reader is None:
            raise SystemExit(f"No user follows {FOLLOWS} people: is the dataset seeded?")
        prolific = db.session.scalar(sa.select(User).order_by(User.posts_count.desc()).limit(1))
        posts = db.session.scalar(sa.select(sa.func.count()).select_from(Post))
        newest_post = db.session.scalar(sa.select(sa.func.max(Post.id)))
        newest_on_timeline = db.session.scalar(
            sa.select(sa.func.max(Post.id)).where(timeline_condition(sa.literal(reader.id)))
        )
        thread_post = db.session.scalar(
            sa.select(Post.id)
            .where(Post.reply_to_id.is_not(None))
            .order_by(Post.replies_count.desc(), Post.id)
            .limit(1)
        )
        tags = db.session.execute(
            sa.select(Tag.key, Tag.posts_count).order_by(Tag.posts_count.desc())
        ).all()
        common_tag = tags[0].key if tags else None
        rare_tag = next((key for key, count in tags if count <= tags[0].posts_count / 100), None)
        per_page = app.config["POSTS_PER_PAGE"]
        context = Context(
            rare_word=rare_word(),
            reader=reader.username,
            reader_last_page=max(1, math.ceil(reader.posts_count / per_page)),
            prolific=prolific.username,
            explore_last_page=max(1, math.ceil(posts / per_page)),
            thread_post=thread_post,
            newest_post=newest_post,
            newest_on_timeline=newest_on_timeline,
            common_tag=common_tag,
            rare_tag=rare_tag,
        )
        if not tags:
            context.notes.append("no post in the dataset has a tag: the tag pages are skipped.")
        if thread_post is None:
            context.notes.append("no post in the dataset is a reply: the thread is skipped.")
        if context.rare_word is None:
            context.notes.append("no word is in only a few posts: that search is skipped.")
        reader.role = Role.ADMIN  # the admin pages are read by the same reader
        # A real session row, as a sign-in makes (the client's cookie carries its key).
        session = UserSession.start(reader, remembered=False, ip_address=None, device=None)
        db.session.commit()
        key = session.key
    client = app.test_client()
    with client.session_transaction() as cookie_session:
        cookie_session["_user_id"] = key
        cookie_session["_fresh"] = True
    return client, context


def discover(client: FlaskClient, context: Context) -> None:
    """Links and validators the pages follow: page 1,999's Older link, the card's ETag."""
    response = client.get("/explore?page=1999")
    check(response, Target(client, "/explore?page=1999"))
    parser = RelNextLink()
    parser.feed(response.get_data(as_text=True))
    context.page_2000_link = parser.href
    if parser.href is None:
        context.notes.append('explore page 1,999 has no <a rel="next"> link yet: skipped.')
    response = client.get(f"/user/{context.prolific}/popup")
    check(response, Target(client, f"/user/{context.prolific}/popup"))
    context.etag = response.headers.get("ETag")
    if context.etag is None:
        context.notes.append("the hover card sends no ETag yet: its repeat is a full 200.")


def expected_status(page: Page, context: Context) -> int:
    return 304 if page.revalidated and context.etag else 200


def run(dataset: Dataset, pages: list[Page], requests: int, max_seconds: float) -> dict:
    app = prepare(dataset)
    client, context = sign_in_reader(app)
    visitor = app.test_client()
    discover(client, context)
    per_page = app.config["POSTS_PER_PAGE"]
    floor_app = create_floor_app(dataset.url, per_page)
    floor_client = floor_app.test_client()
    floor_engine = floor_app.extensions["floor_engine"]
    result: dict = {
        "database": dataset.database,
        "size": dataset.size,
        "posts": dataset.posts,
        "posts_per_page": per_page,
        "revisions": list(dataset.revisions),
        "prepare_seconds": dataset.timings,
        "reader": context.reader,
        "prolific": context.prolific,
        "notes": context.notes,
        "floors": {},
        "pages": {},
    }
    with app.app_context():
        engine = db.engine
    floors = {
        floor: Target(floor_client, f"/{floor}", floor_engine if floor == "join" else None)
        for floor in FLOORS
    }
    try:
        timings = measure(*floors.values(), requests=requests, max_seconds=max_seconds)
        for (floor, name), timing in zip(FLOORS.items(), timings, strict=True):
            result["floors"][floor] = asdict(timing) | {"name": name}
        for page in pages:
            path = page.path(context)
            if path is None:
                result["pages"][page.name] = {"skipped": True}
                continue
            headers = page.headers(context) if page.headers else None
            asking = visitor if page.visitor else client
            target = Target(asking, path, engine, headers, expected_status(page, context))
            timing, floor = measure(
                target, floors[page.floor], requests=requests, max_seconds=max_seconds
            )
            result["pages"][page.name] = asdict(timing) | {
                "path": path,
                "floor_median_ms": floor.median_ms,
            }
    finally:
        floor_engine.dispose()
        with app.app_context():
            db.engine.dispose()
    judge(result, pages)
    return result


def judge(result: dict, pages: list[Page]) -> None:
    """Each page's ratio to its floor (the one timed with it), and whether it meets the
    issue's targets."""
    explore_p1 = result["pages"].get("explore p1", {})
    for page in pages:
        row = result["pages"][page.name]
        if row.get("skipped"):
            continue
        ratio = row["median_ms"] / row["floor_median_ms"]
        failures = []
        if page.max_ratio is not None and ratio > page.max_ratio:
            failures.append(f"{ratio:.1f}x {page.floor} floor > {page.max_ratio:g}x")
        if page.max_ms is not None and row["median_ms"] >= page.max_ms:
            failures.append(f"{row['median_ms']:.2f} ms >= {page.max_ms:g} ms")
        if row["statements"] > page.max_statements:
            failures.append(f"{row['statements']} statements > {page.max_statements}")
        if page.revalidated and row["status"] != 304:
            failures.append("no 304")
        if page.name == "explore last page" and explore_p1.get("median_ms"):
            to_first = row["median_ms"] / explore_p1["median_ms"]
            row["ratio_to_explore_p1"] = to_first
            if to_first > MAX_LAST_PAGE_RATIO:
                failures.append(f"{to_first:.2f}x explore p1 > {MAX_LAST_PAGE_RATIO:g}x")
        row |= {
            "floor": page.floor,
            "ratio": ratio,
            "target": target_of(page),
            "met": not failures,
            "failures": failures,
        }


def target_of(page: Page) -> str:
    bound = (
        f"< {page.max_ms:g} ms"
        if page.max_ratio is None
        else f"<= {page.max_ratio:g}x {page.floor}"
    )
    return f"{bound}, <= {page.max_statements} stmts"


def print_run(result: dict) -> None:
    print()
    header = f"{DATABASE_NAMES[result['database']]}, {result['size'].upper()} posts"
    print(
        f"{header} ({result['posts_per_page']} posts per page; reader {result['reader']}, "
        f"prolific user {result['prolific']})"
    )
    print(
        f"  {'page':36} {'median':>7} {'p95':>7} {'req/s':>7} {'stmts':>5} "
        f"{'floor':>6} {'ratio':>6}  {'target':<28} result"
    )
    for floor in result["floors"].values():
        print(
            f"  {floor['name']:36} {floor['median_ms']:7.2f} {floor['p95_ms']:7.2f} "
            f"{floor['rps']:7.0f} {floor['statements']:5d}"
        )
    for name, row in result["pages"].items():
        if row.get("skipped"):
            print(f"  {name:36} {'skipped':>7}")
            continue
        statements = str(row["statements"])
        if row["statements_max"] != row["statements"]:
            statements += "+"  # a request wrote last_seen or session activity
        status = "" if row["status"] == 200 else f" ({row['status']})"
        verdict = "MET" if row["met"] else "NOT MET: " + "; ".join(row["failures"])
        print(
            f"  {name:36} {row['median_ms']:7.2f} {row['p95_ms']:7.2f} {row['rps']:7.0f} "
            f"{statements:>5} {row['floor_median_ms']:6.2f} {row['ratio']:5.1f}x  "
            f"{row['target']:<28} {verdict}{status}"
        )
    for note in result["notes"]:
        print(f"  note: {note}")


def growth(results: list[dict]) -> list[dict]:
    """Each page's 1M/100k ratio, per database that ran both sizes.

    Judged on each page's ratio to its own run's floor: the two sizes are measured minutes
    apart, and on a shared machine the floors themselves drift by a third in that time, which
    raw milliseconds would count as the page's growth."""
    rows = []
    for database in DATABASES:
        by_size = {r["size"]: r for r in results if r["database"] == database}
        if not {"100k", "1m"} <= by_size.keys():
            continue
        small, large = by_size["100k"], by_size["1m"]
        for name, row in large["pages"].items():
            before = small["pages"].get(name, {})
            if row.get("skipped") or before.get("skipped") or not before:
                continue
            ratio = row["ratio"] / before["ratio"]
            rows.append(
                {
                    "database": database,
                    "page": name,
                    "median_ms_100k": before["median_ms"],
                    "median_ms_1m": row["median_ms"],
                    "raw_ratio": row["median_ms"] / before["median_ms"],
                    "ratio": ratio,
                    "statements_100k": before["statements"],
                    "statements_1m": row["statements"],
                    "met": ratio <= MAX_GROWTH and row["statements"] <= before["statements"],
                }
            )
    return rows


def print_growth(rows: list[dict]) -> None:
    if not rows:
        return
    print(
        f"\n1M posts against 100k (target: at most {MAX_GROWTH}x, same statements; judged on"
        " each page's ratio to its own run's floor)"
    )
    print(
        f"  {'database':10} {'page':36} {'100k ms':>8} {'1M ms':>8} {'raw':>6} "
        f"{'1M/100k':>8}  result"
    )
    for row in rows:
        print(
            f"  {DATABASE_NAMES[row['database']]:10} {row['page']:36} "
            f"{row['median_ms_100k']:8.2f} {row['median_ms_1m']:8.2f} {row['raw_ratio']:5.2f}x "
            f"{row['ratio']:7.2f}x  " + ("MET" if row["met"] else "NOT MET")
        )


def git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_arguments(parser)
    parser.add_argument("--pages", nargs="+", help="only pages whose name contains one of these")
    parser.add_argument("--quick", action="store_true", help="100k, 30 requests a page")
    parser.add_argument("--requests", type=int, help="per page (default 200; quick: 30)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is not met")
    parser.add_argument("--json", default=str(BENCH_DIR / "results.json"), help="results file")
    options = parser.parse_args(argv)
    sizes, databases = chosen_datasets(options)
    requests = options.requests or (30 if options.quick else 200)
    max_seconds = 3 if options.quick else MAX_SECONDS
    pages = [
        page
        for page in PAGES
        if not options.pages or any(word.lower() in page.name.lower() for word in options.pages)
    ]
    if not pages:
        parser.error("--pages matches no page: " + ", ".join(page.name for page in PAGES))
    print(
        f"make bench: {', '.join(databases)}; {', '.join(sizes)} posts; {requests} requests "
        f"a page (at most {max_seconds} s); load average {os.getloadavg()[0]:.1f}"
    )
    results = []
    for database in databases:
        for size in sizes:
            data = dataset(database, size)
            print(f"\n{data.label}: preparing ...", flush=True)
            result = run(data, pages, requests, max_seconds)
            print_run(result)
            results.append(result)
    rows = growth(results)
    print_growth(rows)
    report = {
        "commit": git_commit(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_average": os.getloadavg()[0],
        "requests_per_page": requests,
        "runs": results,
        "growth": rows,
    }
    BENCH_DIR.mkdir(exist_ok=True)
    with open(options.json, "w") as file:
        json.dump(report, file, indent=2)
    failed = [
        f"{DATABASE_NAMES[r['database']]} {r['size']}: {name}"
        for r in results
        for name, row in r["pages"].items()
        if not row.get("skipped") and not row["met"]
    ] + [f"{DATABASE_NAMES[r['database']]} 1M/100k: {r['page']}" for r in rows if not r["met"]]
    print(f"\nResults written to {options.json}.")
    print("Every target MET." if not failed else f"{len(failed)} targets NOT MET.")
    return 1 if failed and options.check else 0


if __name__ == "__main__":
    sys.exit(main())
