"""Ad text is attacker-controlled: script, HTML and URL injection in ads must be inert in every page."""

from __future__ import annotations

import re

import httpx
import pytest
from review_support import ReviewEnv, active_content, query

from review_app.security import CONTENT_SECURITY_POLICY
from warehouse import session
from warehouse.ads import upsert_ads
from warehouse.records import AdRow

INJECTIONS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:", "=HYPERLINK(")


def _injection_ads(env: ReviewEnv) -> dict[str, int]:
    found: dict[str, int] = {}
    for needle in INJECTIONS:
        rows = query(env.db, "SELECT min(ad_id) FROM ads WHERE contains(title || body, ?)", [needle])
        assert rows[0][0] is not None, f"fixture ads lost their {needle!r} case"
        found[needle] = int(rows[0][0])
    return found


def test_injection_ads_are_escaped_in_the_queue(shared_env: ReviewEnv) -> None:
    """Searching the queue for the attack ads shows their text escaped: no tag, handler or javascript: URL from
    an ad reaches the page."""
    client = shared_env.logged_in()
    for needle, ad_id in _injection_ads(shared_env).items():
        page = client.get("/", params={"status": "all", "q": needle[:12]})
        assert page.status_code == 200
        assert f'data-href="/ads/{ad_id}' in page.text, needle
        assert active_content(page.text) == [], needle
    page = client.get("/", params={"status": "all", "q": "<script>alert(1)"})
    unmarked = re.sub(r'<mark class="[a-z0-9 _-]+" data-indicators="[^"<>]*" title="[^"<>]*">|</mark>', "", page.text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in unmarked and "<script>alert(1)" not in page.text
    assert re.search(r'<mark class="[^"]*hl-search[^"]*"[^>]*>&lt;script&gt;alert\(1\)</mark>', page.text)


def test_injection_ads_are_escaped_on_the_ad_page(shared_env: ReviewEnv) -> None:
    """The ad page (highlighted text, evidence, contacts, history with a hostile note) contains no active content."""
    client = shared_env.logged_in()
    ads = _injection_ads(shared_env)
    client.decide(ads["<script>alert(1)</script>"], "unsure", note='<script>alert("note")</script>')
    for needle, ad_id in ads.items():
        page = client.get(f"/ads/{ad_id}")
        assert page.status_code == 200
        assert active_content(page.text) == [], needle
    image_ad = client.get(f"/ads/{ads['<img src=x onerror=alert(1)>']}").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in image_ad
    history = client.get(f"/ads/{ads['<script>alert(1)</script>']}").text
    assert "&lt;script&gt;alert(&#34;note&#34;)&lt;/script&gt;" in history


def test_only_http_urls_become_links_and_they_leak_nothing(shared_env: ReviewEnv) -> None:
    """An ad whose crawl URL is javascript: is shown as text; http(s) URLs are links with
    rel="noopener noreferrer nofollow"."""
    hostile = 'javascript:alert(document.cookie)//"><b>x</b>'
    with session(shared_env.db) as con:
        upsert_ads(con, [AdRow(site_id="balticjobs", url=hostile, title="Hostile URL", body="Nothing to see.")], None)
        ad_id = int(con.execute("SELECT ad_id FROM ads WHERE url = ?", [hostile]).fetchall()[0][0])
    client = shared_env.logged_in()
    page = client.get(f"/ads/{ad_id}").text
    assert active_content(page) == []
    assert 'class="unsafe-url"' in page and "javascript:alert(document.cookie)//&#34;&gt;&lt;b&gt;x&lt;/b&gt;" in page
    normal = int(query(shared_env.db, "SELECT min(ad_id) FROM ads WHERE url LIKE 'http://%'")[0][0])
    url = query(shared_env.db, "SELECT url FROM ads WHERE ad_id = ?", [normal])[0][0]
    page = client.get(f"/ads/{normal}").text
    assert f'<a href="{url}" rel="noopener noreferrer nofollow" target="_blank">' in page


@pytest.mark.parametrize("path", ["/", "/login", "/ads/1", "/ads/999999", "/static/app.css", "/static/app.js", "/nope"])
def test_security_headers_on_every_response(shared_env: ReviewEnv, path: str) -> None:
    """Pages, errors and static files all carry a strict CSP (no 'unsafe-inline', no framing), nosniff, a
    referrer policy and no-store for dynamic pages."""
    client = shared_env.logged_in()
    response = client.get(path)
    headers = response.headers
    csp = headers["content-security-policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    if not path.startswith("/static/"):
        assert headers["cache-control"] == "no-store"


def test_pages_work_under_the_csp(shared_env: ReviewEnv) -> None:
    """No inline script, inline style or external asset in any page: everything the CSP allows is served from
    /static by the app itself."""
    client = shared_env.logged_in()
    ad_id = int(query(shared_env.db, "SELECT min(ad_id) FROM ads")[0][0])
    for path in ("/", f"/ads/{ad_id}", "/login"):
        html = (shared_env.client() if path == "/login" else client).get(path).text
        assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/static/app.js" defer>'], path
        assert "<style" not in html and " style=" not in html
        assert not re.search(r'(src|href)="(https?:)?//', html.replace(
            query(shared_env.db, "SELECT url FROM ads WHERE ad_id = ?", [ad_id])[0][0], ""
        ))
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
            assert client.get(asset).status_code == 200


def test_static_files_are_public_but_nothing_else(shared_env: ReviewEnv) -> None:
    """Stylesheet and script load without a session (the login page needs them); an unknown path does not leak
    whether it exists."""
    anonymous = httpx.get(f"{shared_env.url}/static/app.css")
    assert anonymous.status_code == 200 and anonymous.headers["content-type"].startswith("text/css")
    assert httpx.get(f"{shared_env.url}/static/../review_app/settings.py").status_code == 404
