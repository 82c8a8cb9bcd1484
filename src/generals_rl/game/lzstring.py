"""lz-string's ``compressToUint8Array`` / ``decompressFromUint8Array``, byte for byte.

generals.io stores replays (``.gior``) as JSON compressed with the JavaScript library lz-string
(pieroxy, 1.4.x). This is an independent Python implementation of its format, so that files we
write load in the official tools and theirs load here.

The format is LZW over the string's UTF-16 code units (an astral character is two units, as in
JavaScript). Codes are written least significant bit first into 16-bit characters, each stored
big-endian in two bytes. Codes 0 and 1 introduce a new 8-bit or 16-bit character, 2 ends the
stream; the code width starts at 2 bits and grows as the dictionary fills.
"""

from __future__ import annotations


class LZStringError(ValueError):
    """Bytes that are not a valid lz-string stream."""


_NEW_CHAR_8, _NEW_CHAR_16, _END = 0, 1, 2
_BITS_PER_CHAR = 16


def _to_units(text: str) -> str:
    """The UTF-16 code units of ``text``, one Python character each (surrogates kept apart)."""
    data = text.encode("utf-16-be", "surrogatepass")
    return "".join(chr((data[i] << 8) | data[i + 1]) for i in range(0, len(data), 2))


def _from_units(units: str) -> str:
    """Join UTF-16 code units back into a string (surrogate pairs become astral characters)."""
    return units.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "surrogatepass")


class _BitWriter:
    """Packs codes, least significant bit first, into 16-bit values."""

    def __init__(self) -> None:
        self.values: list[int] = []
        self._value = 0
        self._position = 0

    def write(self, code: int, width: int) -> None:
        for _ in range(width):
            self._value = (self._value << 1) | (code & 1)
            code >>= 1
            if self._position == _BITS_PER_CHAR - 1:
                self.values.append(self._value)
                self._value = 0
                self._position = 0
            else:
                self._position += 1

    def flush(self) -> None:
        # lz-string pads the last value with zeros, and emits a whole zero value when the
        # stream ended exactly on a boundary; keep that for byte-identical output.
        while True:
            self._value <<= 1
            if self._position == _BITS_PER_CHAR - 1:
                self.values.append(self._value)
                return
            self._position += 1


def compress_units(units: str) -> list[int]:
    """LZW-compress a string of UTF-16 code units into 16-bit values (lz-string's ``compress``)."""
    out = _BitWriter()
    dictionary: dict[str, int] = {}
    pending: set[str] = set()  # single characters in the dictionary whose literal is not yet sent
    next_code = 3
    width = 2
    enlarge_in = 2  # codes left before ``width`` grows

    def emit(word: str) -> None:
        nonlocal width, enlarge_in
        if word in pending:
            code = ord(word)
            if code < 256:
                out.write(_NEW_CHAR_8, width)
                out.write(code, 8)
            else:
                out.write(_NEW_CHAR_16, width)
                out.write(code, 16)
            enlarge_in -= 1
            if enlarge_in == 0:
                enlarge_in = 1 << width
                width += 1
            pending.discard(word)
        else:
            out.write(dictionary[word], width)
        enlarge_in -= 1
        if enlarge_in == 0:
            enlarge_in = 1 << width
            width += 1

    word = ""
    for char in units:
        if char not in dictionary:
            dictionary[char] = next_code
            next_code += 1
            pending.add(char)
        extended = word + char
        if extended in dictionary:
            word = extended
            continue
        emit(word)
        dictionary[extended] = next_code
        next_code += 1
        word = char
    if word:
        emit(word)
    out.write(_END, width)
    out.flush()
    return out.values


class _BitReader:
    """Reads codes, least significant bit first, from 16-bit values; zeros past the end.

    ``loaded`` follows lz-string's ``data.index``: the next value is loaded as soon as the last
    bit of the current one is read, and the count includes it.
    """

    def __init__(self, values: list[int]) -> None:
        self._values = values
        self._value = values[0] if values else 0
        self._mask = 1 << (_BITS_PER_CHAR - 1)
        self.loaded = 1

    def read(self, width: int) -> int:
        code = 0
        for bit in range(width):
            if self._value & self._mask:
                code |= 1 << bit
            self._mask >>= 1
            if self._mask == 0:
                self._mask = 1 << (_BITS_PER_CHAR - 1)
                index = self.loaded
                self._value = self._values[index] if index < len(self._values) else 0
                self.loaded += 1
        return code


MAX_DECOMPRESSED = 64 * 2**20
"""Most code units a stream may decompress to (64 Mi): lz-string doubles runs, so a few KB can
claim gigabytes; a replay of the longest game is a few MB."""


def decompress_units(values: list[int], max_length: int = MAX_DECOMPRESSED) -> str | None:
    """Inverse of ``compress_units``: the code units, or None where the stream is invalid.

    As in lz-string, reading past the end yields zero bits, and a stream that runs out before
    its end code decodes as the empty string. Raises ``LZStringError`` once the output would pass
    ``max_length`` code units (a decompression bomb), before it is built.
    """
    reader = _BitReader(values)
    first = reader.read(2)
    if first == _END:
        return ""
    if first not in (_NEW_CHAR_8, _NEW_CHAR_16):
        return None
    word = chr(reader.read(8 if first == _NEW_CHAR_8 else 16))
    dictionary: list[str] = ["", "", "", word]
    result = [word]
    length = len(word)
    width = 3
    enlarge_in = 4
    while True:
        if reader.loaded > len(values):
            return ""
        code = reader.read(width)
        if code == _END:
            return "".join(result)
        if code in (_NEW_CHAR_8, _NEW_CHAR_16):
            dictionary.append(chr(reader.read(8 if code == _NEW_CHAR_8 else 16)))
            code = len(dictionary) - 1
            enlarge_in -= 1
            if enlarge_in == 0:
                enlarge_in = 1 << width
                width += 1
        if code < len(dictionary):
            entry = dictionary[code]
        elif code == len(dictionary):
            entry = word + word[0]
        else:
            return None
        length += len(entry)
        if length > max_length:
            raise LZStringError(f"the stream decompresses to more than {max_length} characters")
        result.append(entry)
        dictionary.append(word + entry[0])
        enlarge_in -= 1
        word = entry
        if enlarge_in == 0:
            enlarge_in = 1 << width
            width += 1


def compress_to_uint8array(text: str) -> bytes:
    """lz-string's ``compressToUint8Array(text)``."""
    values = compress_units(_to_units(text))
    return b"".join(v.to_bytes(2, "big") for v in values)


def decompress_from_uint8array(data: bytes, max_length: int = MAX_DECOMPRESSED) -> str | None:
    """lz-string's ``decompressFromUint8Array(data)``: the text, or None for empty input (as
    lz-string returns null). Raises ``LZStringError`` when ``data`` is not a valid stream or
    decompresses to more than ``max_length`` characters."""
    if len(data) % 2:
        raise LZStringError(f"an lz-string byte stream has an even length, got {len(data)} bytes")
    if not data:
        return None
    values = [(data[i] << 8) | data[i + 1] for i in range(0, len(data), 2)]
    units = decompress_units(values, max_length)
    if units is None:
        raise LZStringError("not an lz-string stream: a code refers past the dictionary")
    return _from_units(units)
