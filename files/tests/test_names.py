"""The shown name of an upload: never a path, never lying about its extension."""

import pytest

from files.names import MAX_NAME, content_disposition, display_name


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ann\\report.pdf", "report.pdf"),
        ("evil\x00name.txt", "evilname.txt"),
        ("photo\u202egnp.exe", "photognp.exe"),
        ("a\u2066b\u2069c\u200b.txt", "abc.txt"),
        ("line\nbreak\ttab.txt", "line break tab.txt"),
        ("...hidden", "hidden"),
        ("..", "file"),
        ("", "file"),
        ("\u0000\u202e", "file"),
        ("cafe\u0301.txt", "café.txt"),
    ],
)
def test_display_name_cleans(raw, shown):
    assert display_name(raw) == shown


def test_a_long_name_is_cut_keeping_its_extension():
    name = display_name("a" * 1000 + ".tar.gz")
    assert len(name) == MAX_NAME and name.endswith("a.gz")


def test_a_long_name_without_an_extension_is_cut():
    assert display_name("b" * 1000) == "b" * MAX_NAME


def test_content_disposition_has_an_ascii_fallback_and_the_utf8_name():
    assert content_disposition('Ünï "quoted"; a%b.txt') == (
        'attachment; filename="_n_ _quoted__ a_b.txt"; '
        "filename*=UTF-8''%C3%9Cn%C3%AF%20%22quoted%22%3B%20a%25b.txt"
    )
