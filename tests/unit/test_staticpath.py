"""Static paths: which URL paths name which files, and that nothing outside the folder is ever opened."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge.staticpath import decode, inside, open_inside

DECODE = [
    (None, ([], False)),  # the prefix without its slash
    ("", ([], True)),
    ("app.css", (["app.css"], False)),
    ("css/site.css", (["css", "site.css"], False)),
    ("css/", (["css"], True)),
    (".well-known/security.txt", ([".well-known", "security.txt"], False)),  # dotfiles are served
    ("my%20file.txt", (["my file.txt"], False)),
    ("caf%C3%A9.txt", (["café.txt"], False)),
    ("caf\xc3\xa9.txt", (["café.txt"], False)),  # raw UTF-8 bytes, as the gateway holds them (latin-1)
    ("a%25b", (["a%b"], False)),  # decoded once only
    ("..%2F..%2Fedge.toml", None),  # an encoded slash never becomes a separator
    ("..%2f..%2fedge.toml", None),  # nor in lower case
    ("a%2Fb", None),
    ("..%5Cedge.toml", None),  # nor an encoded backslash
    ("a\\b", None),
    ("x%00.css", None),  # NUL
    ("%2E%2E/edge.toml", None),  # dot segments are refused even if they got here
    ("./app.css", None),
    ("../edge.toml", None),
    ("a//b", None),
]


@pytest.mark.parametrize(("rest", "expected"), DECODE)
def test_decode(rest: str | None, expected: tuple[list[str], bool] | None) -> None:
    assert decode(rest) == expected


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("staticpath")
    (base / "outside").mkdir()
    (base / "outside" / "secret.txt").write_text("secret")
    folder = base / "root"
    (folder / "sub").mkdir(parents=True)
    (folder / "app.css").write_text("body{}")
    (folder / ".hidden").write_text("dot")
    (folder / "sub" / "page.txt").write_text("page")
    links = {
        "link-in": "app.css",
        "link-up-and-in": "../root/app.css",  # leaves the folder by name, lands inside: served
        "link-out": "../outside/secret.txt",
        "link-abs-out": str(base / "outside" / "secret.txt"),
        "dir-in": "sub",
        "dir-out": "../outside",
        "loop": "loop",
        "dangling": "nothing-here",
    }
    for name, target in links.items():
        os.symlink(target, folder / name)
    os.mkfifo(folder / "fifo")
    return os.path.realpath(folder)


OPEN = [
    (["app.css"], "app.css"),
    (["sub", "page.txt"], "sub/page.txt"),
    ([".hidden"], ".hidden"),
    ([], ""),  # the folder itself
    (["sub"], "sub"),
    (["link-in"], "app.css"),
    (["link-up-and-in"], "app.css"),
    (["dir-in", "page.txt"], "sub/page.txt"),
    (["link-out"], None),
    (["link-abs-out"], None),
    (["dir-out", "secret.txt"], None),
    (["dir-out"], None),
    (["loop"], None),
    (["dangling"], None),
    (["missing.css"], None),
    (["app.css", "x"], None),  # a file is not a folder
    (["sub", "missing", "x"], None),
]


@pytest.mark.parametrize(("names", "expected"), OPEN)
def test_open_inside(root: str, names: list[str], expected: str | None) -> None:
    opened = open_inside(root, names)
    if expected is None:
        assert opened is None
        return
    assert opened is not None
    try:
        assert opened.path == (f"{root}/{expected}" if expected else root)
        assert inside(root, opened.path)
    finally:
        opened.close()


def test_a_fifo_is_opened_without_blocking_and_is_not_a_file(root: str) -> None:
    opened = open_inside(root, ["fifo"])
    assert opened is not None
    try:
        assert not opened.is_file and not opened.is_dir
    finally:
        opened.close()


@pytest.mark.parametrize(
    ("real", "expected"),
    [("/srv/static", True), ("/srv/static/a", True), ("/srv/static-other/a", False), ("/srv", False)],
)
def test_inside(real: str, expected: bool) -> None:
    assert inside("/srv/static", real) is expected
    assert inside("/", real)


def test_unreadable_file_raises_for_the_caller_to_log(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    (tmp_path / "locked").write_text("x")
    (tmp_path / "locked").chmod(0)
    with pytest.raises(PermissionError):
        open_inside(os.path.realpath(tmp_path), ["locked"])
