"""The hot path's flat reader agrees with the json module on everything `cache.store` can write."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from oauth_helper.cache import loads_flat

_values = st.one_of(
    st.text(max_size=40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**53), max_value=2**53),
)


@settings(max_examples=3000)
@given(st.dictionaries(st.text(max_size=12), _values, max_size=6))
def test_flat_reader_agrees_with_json(entry: dict[str, object]) -> None:
    data = json.dumps(entry).encode()
    parsed = loads_flat(data)
    if parsed is None:
        return  # the caller then uses the json module: always allowed
    assert parsed == {k: float(v) if isinstance(v, (int, float)) else v for k, v in entry.items()}


@settings(max_examples=3000)
@given(st.binary(max_size=200))
def test_flat_reader_never_raises_and_never_invents(data: bytes) -> None:
    parsed = loads_flat(data)
    if parsed is not None:
        reference = json.loads(data)
        assert isinstance(reference, dict)
        assert parsed == {
            k: float(v) if isinstance(v, (int, float)) else v for k, v in reference.items()
        }


def test_real_entry() -> None:
    text = (
        b'{"access_token": "ya29.x-y_z", "expires_at": 1767225600.25, "fingerprint": "ab", '
        b'"config_stamp": "1:2:3", "obtained_at": 1767222000}'
    )
    assert loads_flat(text) == json.loads(text) | {"obtained_at": 1767222000.0}
