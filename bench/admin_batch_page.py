"""The admin batch page with 1,000 disagreements: every one on the page (as before issue 17)
against the paged, sorted page (20 a page), alternating rounds.

    .venv/bin/python bench/admin_batch_page.py --rounds 5

Builds a real SQLite store (the demo spec, canned completions, two reviewers who disagree
on every one of 1,000 items, through ``submit_rating``), then times ``GET
/admin/batches/N`` through the app in-process (TestClient) and records the HTML size.
The baseline arm asks for all 1,000 on one page (``size=1000``), which is what the page
did before.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from _rounds import add_rounds_argument, run_rounds, timed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "serve"))
ITEMS = 1000


def build() -> tuple[object, int]:
    from serve_site import DEMO_SPEC, GOOD, build_site
    from sqlalchemy import select

    from accord.review import create_batch, next_task, store_canned_completions, submit_rating
    from accord.spec import load_spec
    from accord.store import SpecVersion, Store

    store = Store.open(f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")
    site = build_site(store)
    spec = load_spec(DEMO_SPEC)
    with store.session() as s:
        row = s.scalars(select(SpecVersion).where(SpecVersion.hash == spec.hash)).one()
        model = store_canned_completions(s, row, prompts=ITEMS // 2, completions_per_prompt=2,
                                         name="canned-many", seed=1)
        batch = create_batch(s, name="many", kind="rating", model_version=model,
                             spec_version=row.id, prompts=ITEMS // 2, completions_per_prompt=2,
                             overlap=2).id
    for reviewer in ("reviewer", "reviewer2"):
        with store.session() as s:
            while (task := next_task(s, batch, site.users[reviewer])) is not None:
                gap = 1 + task.item_id % 4 if reviewer == "reviewer2" else 0
                submit_rating(s, task.id, site.users[reviewer], {**GOOD, "helpful": 5 - gap})
    return site, batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_rounds_argument(parser)
    parser.add_argument("--json", type=Path, help="Also write the result here.")
    args = parser.parse_args()
    site, batch = build()
    client, _ = site.as_user("admin")  # type: ignore[attr-defined]
    sizes: dict[str, int] = {}

    def get(name: str, query: str) -> None:
        response = client.get(f"/admin/batches/{batch}?status=all{query}")
        assert response.status_code == 200, response.text[:300]
        sizes[name] = len(response.content)

    result = run_rounds({"all on one page": timed(lambda: get("all", f"&size={ITEMS}")),
                         "paged (20)": timed(lambda: get("paged", ""))},
                        rounds=args.rounds, unit="s")
    print(result.report())
    print(f"HTML bytes: all on one page {sizes['all']:,}, paged {sizes['paged']:,}")
    if args.json:
        args.json.write_text(json.dumps({**result.as_dict(), "bytes": sizes}, indent=1))


if __name__ == "__main__":
    main()
