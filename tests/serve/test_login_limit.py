"""Repeated failed sign-ins are throttled per account and per address; success resets."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from serve_site import PASSWORD, Site, live_server

from accord.accounts import LimitCounter, create_user
from accord.serve._signin_limit import LimitPolicy, SignInLimiter, SignInThrottled


def _api_login(site: Site, username: str, password: str):
    site.client.cookies.clear()
    return site.client.post("/api/login", json={"username": username, "password": password})


def test_api_refuses_with_429_after_five_failures_even_the_right_password(site: Site):
    for _ in range(6):  # five free failures; the sixth shuts the account for 1 s
        assert _api_login(site, "reviewer", "wrong password").status_code == 401
    refused = _api_login(site, "reviewer", PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert "Too many failed sign-ins for this account" in refused.json()["error"]
    assert "set-cookie" not in refused.headers  # no session was started
    # Another account from the same address is not shut by this one's failures.
    assert _api_login(site, "reviewer2", PASSWORD).status_code == 200
    time.sleep(1.1)
    assert _api_login(site, "reviewer", PASSWORD).status_code == 200


def test_the_wait_doubles_and_success_clears_the_count(site: Site):
    for _ in range(6):
        _api_login(site, "reviewer", "wrong password")
    time.sleep(1.1)
    assert _api_login(site, "reviewer", "wrong password").status_code == 401  # 7th: 2 s
    time.sleep(1.1)
    assert _api_login(site, "reviewer", PASSWORD).status_code == 429  # still shut
    time.sleep(1.0)
    assert _api_login(site, "reviewer", PASSWORD).status_code == 200
    # The count starts again from zero: five more failures are free.
    for _ in range(5):
        assert _api_login(site, "reviewer", "wrong password").status_code == 401
    assert _api_login(site, "reviewer", PASSWORD).status_code == 200


def test_one_address_guessing_many_accounts_is_throttled(site: Site):
    # Names that do not exist count too, or guessing them would be free.
    for n in range(21):
        assert _api_login(site, f"nobody{n}", "wrong password").status_code == 401
    refused = _api_login(site, "admin", PASSWORD)
    assert refused.status_code == 429
    assert "from your network address" in refused.json()["error"]
    # Signing in elsewhere does not wipe the address's count (see _signin_limit).
    time.sleep(1.1)
    assert _api_login(site, "admin", PASSWORD).status_code == 200
    assert _api_login(site, "nobody99", "wrong password").status_code == 401
    assert _api_login(site, "reviewer", PASSWORD).status_code == 429


def test_a_room_signing_in_at_once_from_one_address_is_not_throttled(site: Site):
    with site.store.session() as s:
        for n in range(25):
            create_user(s, f"person{n}", PASSWORD, ["reviewer"])
    with live_server(site.client.app) as base, ThreadPoolExecutor(25) as pool:
        codes = list(pool.map(lambda n: httpx.post(
            f"{base}/api/login", json={"username": f"person{n}", "password": PASSWORD},
            timeout=120).status_code, range(25)))
    assert codes == [200] * 25


def test_sign_in_form_shows_the_wait_with_status_429(site: Site):
    client = site.client
    client.cookies.clear()
    page = client.get("/login")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"csrf_token": csrf, "username": "Reviewer ", "password": "wrong password",
            "next": "/"}
    for _ in range(6):
        assert client.post("/login", data=form).status_code == 401
    refused = client.post("/login", data={**form, "username": "reviewer",
                                          "password": PASSWORD})
    assert refused.status_code == 429
    assert "Too many failed sign-ins for this account. Try again in 1 second." in refused.text
    assert refused.headers["retry-after"] == "1"
    # The form and the API share the count: the API is shut too.
    assert _api_login(site, "reviewer", PASSWORD).status_code == 429


def test_policy_waits_grow_to_a_cap_and_counts_are_forgotten(site: Site):
    policy = LimitPolicy(free=2, base_s=1.0, max_s=8.0, forget_s=60.0)
    assert [policy.wait_after(n) for n in range(1, 8)] == [0, 0, 1, 2, 4, 8, 8]
    now = [1_000_000.0]
    limiter = SignInLimiter(site.store, policy, LimitPolicy(free=100), clock=lambda: now[0])
    for _ in range(3):
        limiter.attempt("ann", "10.0.0.1")
    try:
        limiter.attempt("ann", "10.0.0.1")
    except SignInThrottled as exc:
        assert (exc.scope, exc.retry_after) == ("account", 1)
    else:
        raise AssertionError("the fourth attempt within a second was let through")
    now[0] += 61.0  # a minute after the last failure the count is forgotten
    for _ in range(2):
        limiter.attempt("ann", "10.0.0.1")


def test_counts_live_in_the_store_under_hashed_keys_and_are_swept_when_forgotten(site: Site):
    now = [2_000_000.0]
    limiter = SignInLimiter(site.store, clock=lambda: now[0])
    for n in range(50):
        limiter.failed(limiter.attempt(f"random{n}", f"10.0.0.{n}"))
    with site.store.session() as s:
        keys = [row.key for row in s.query(LimitCounter).all()]
    assert len(keys) == 100  # 50 names and 50 addresses
    assert not any("random" in k or "10.0.0." in k for k in keys)  # names are not listed
    # A second limiter (another worker) sees the same counts.
    other = SignInLimiter(site.store, clock=lambda: now[0])
    for _ in range(5):
        other.failed(other.attempt("random0", "10.9.9.9"))
    try:
        limiter.attempt("random0", "10.8.8.8")
    except SignInThrottled as exc:
        assert exc.scope == "account"
    else:
        raise AssertionError("the other limiter's failures were not seen")
    now[0] += 16 * 60  # forgotten after 15 minutes, deleted by the next sweep
    limiter._swept = 0.0
    limiter.attempt("someone", "10.7.7.7")
    with site.store.session() as s:
        assert [row.key for row in s.query(LimitCounter).all()] == [
            limiter._key("account", "someone")]
