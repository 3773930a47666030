"""One masking rule for the inspector's records and the console's view of a context."""

from __future__ import annotations

import pytest

from appfn import masking


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("Bearer abcdefghijkl1234", "Bearer ****1234"),
        ("Basic dXNlcjpwYXNzd29yZA==", "Basic ****ZA=="),
        ("Bearer short", "Bearer ****"),  # too short to show any of it
        ("sk_live_0123456789abcd", "****abcd"),
        ("a=1; session=abcdefghijklmnop", "****mnop"),  # a cookie list has no scheme
        ("", "****"),
    ],
)
def test_mask_secret_keeps_the_scheme_and_at_most_the_last_4(value: str, masked: str) -> None:
    assert masking.mask_secret(value) == masked


@pytest.mark.parametrize(
    "name", ["Authorization", "X-Api-Key", "Cookie", "x-auth-token", "client_secret", "password", "apikey", "key",
             "Proxy-Authorization", "X-Session-Id", "stripe_key", "access_token"],
)  # fmt: skip
def test_credential_names(name: str) -> None:
    assert masking.is_secret_name(name)


@pytest.mark.parametrize("name", ["content-type", "user-agent", "email", "first_name", "customer_id", "author"])
def test_ordinary_names(name: str) -> None:
    assert not masking.is_secret_name(name)


def test_mask_json_masks_named_keys_at_any_depth_and_keeps_the_rest() -> None:
    value = {"customer": {"id": 7, "api_key": "abcdefghijkl9c2e"}, "items": [{"token": "t"}], "crmUrl": "https://x"}
    assert masking.mask_json(value, secret_keys={"crmUrl"}) == {
        "customer": {"id": 7, "api_key": "****9c2e"},
        "items": [{"token": "****"}],
        "crmUrl": "****",  # shorter than 12: masked whole
    }
    assert value["customer"]["api_key"] == "abcdefghijkl9c2e"  # a copy: the input is left alone
