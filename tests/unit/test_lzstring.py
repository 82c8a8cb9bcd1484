"""lz-string's Uint8Array format: round trips, known outputs of the JavaScript library, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generals_rl.game.lzstring import LZStringError, compress_to_uint8array, decompress_from_uint8array

REPLAYS = Path(__file__).resolve().parents[1] / "golden" / "data"  # official replays, kept in the repo

# Outputs of lz-string 1.4.4's compressToUint8Array (node), hex.
KNOWN = {
    "": "4000",
    "hello": "0585303660f64000",
    "敵は本能寺にあり！！": "aba9a7b06434e68bf0185fda8d60c8420c828864203fd280",
    "\U0001f600 ab\U0001f600": "af06e003d804086046a40000",
    "a" * 144: "218d7c6574edfc314a90",
}


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_round_trip_any_text(text: str) -> None:
    assert decompress_from_uint8array(compress_to_uint8array(text)) == text


ASTRAL = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF)


@given(st.text(alphabet=ASTRAL) | st.text(alphabet="ab"))
@settings(max_examples=100, deadline=None)
def test_round_trip_astral_and_repetitive(text: str) -> None:
    assert decompress_from_uint8array(compress_to_uint8array(text)) == text


def test_round_trip_lone_surrogate() -> None:
    # JavaScript strings may hold lone surrogates; they survive as code units.
    text = "a\ud800b\udfffc"
    assert decompress_from_uint8array(compress_to_uint8array(text)) == text


@pytest.mark.parametrize(("text", "hex_bytes"), KNOWN.items())
def test_matches_javascript_output(text: str, hex_bytes: str) -> None:
    assert compress_to_uint8array(text).hex() == hex_bytes
    assert decompress_from_uint8array(bytes.fromhex(hex_bytes)) == text


def test_empty_bytes_decode_to_none() -> None:
    assert decompress_from_uint8array(b"") is None


def test_odd_length_is_rejected() -> None:
    with pytest.raises(LZStringError, match="even length"):
        decompress_from_uint8array(b"\x00\x01\x02")


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_garbage_gives_text_or_lzstring_error(data: bytes) -> None:
    try:
        out = decompress_from_uint8array(data)
    except LZStringError:
        return
    assert out is None or isinstance(out, str)


def test_official_gior_reencodes_byte_for_byte() -> None:
    data = (REPLAYS / "input.gior").read_bytes()
    text = decompress_from_uint8array(data)
    assert text is not None and text.startswith("[5,")
    assert compress_to_uint8array(text) == data


def test_a_stream_that_would_decompress_past_the_limit_is_refused_before_it_is_built() -> None:
    bomb = compress_to_uint8array("a" * 200_000)  # runs double: ~1.3 KB of stream
    assert len(bomb) < 2_000
    assert decompress_from_uint8array(bomb) == "a" * 200_000
    with pytest.raises(LZStringError, match="more than 10000 characters"):
        decompress_from_uint8array(bomb, max_length=10_000)
