"""`appfn serve --demo` seeds a demo store once, and a restart leaves it alone."""

from __future__ import annotations

from pathlib import Path

from tests.server import running_server


def test_serve_demo_seeds_the_demo_store_once(tmp_path: Path) -> None:
    with running_server(tmp_path, demo=True) as server:
        assert "demo store 1305146709: 25 customers, 30 products, 20 orders" in server.output()
        headers = {**server.headers(), "X-Store-Id": "1305146709"}
        with server.client() as client:
            page = client.get("/admin/v2/customers", params={"per_page": 60}, headers=headers).json()
            assert page["success"] is True and page["pagination"]["total"] == 25
            stores = client.get("/v1/stores").json()["items"]
            assert [s["id"] for s in stores if s["is_demo"]] == [1305146709]
    with running_server(tmp_path, demo=True) as again:
        assert "demo store 1305146709: already seeded" in again.output()
