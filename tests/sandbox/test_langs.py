"""The language registry."""

import pytest

from oorl.langs import LANGUAGES, UnknownLanguageError, canonical_language, get_language


def test_thirteen_languages():
    assert sorted(LANGUAGES) == sorted(
        [
            "python",
            "cpp",
            "c",
            "java",
            "php",
            "bash",
            "javascript",
            "typescript",
            "go",
            "csharp",
            "scala",
            "haskell",
            "rust",
        ]
    )


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("py", "python"),
        ("c++", "cpp"),
        ("js", "javascript"),
        ("ts", "typescript"),
        ("cs", "csharp"),
        ("sh", "bash"),
        ("hs", "haskell"),
        ("rs", "rust"),
        ("C++", "cpp"),
        (" Python ", "python"),
    ],
)
def test_aliases(alias, name):
    assert canonical_language(alias) == name


def test_unknown_language_lists_the_known_ones():
    with pytest.raises(UnknownLanguageError) as e:
        get_language("cobol")
    message = str(e.value)
    assert "'cobol'" in message
    for name in LANGUAGES:
        assert name in message


def test_java_file_is_named_after_its_public_class():
    java = get_language("java")
    assert java.file_name("import x;\npublic class Main { }") == "Main.java"
    assert java.file_name("class Problem {\n public static void main(String[] a) {} }") == "Problem.java"
    assert java.run_argv("public class Foo {}", 256)[-1] == "Foo"


def test_scala_file_is_named_after_its_object():
    assert (
        get_language("scala").file_name("object Problem {\n def main(args: Array[String]) = {} }")
        == "Problem.scala"
    )


def test_test_sources_compile_as_test_binaries():
    go, rust = get_language("go"), get_language("rust")
    test_src = 'package main\nimport "testing"\nfunc TestX(t *testing.T) {}'
    assert go.compile_argv(test_src)[1:3] == ("test", "-c")
    assert go.file_name(test_src) == "main_test.go"
    assert go.compile_argv("package main\nfunc main() {}")[1] == "build"
    assert "--test" in rust.compile_argv("#[test]\nfn t() {}")
    assert "--test" not in rust.compile_argv("fn main() {}")


def test_every_language_has_a_fence_tag_and_a_package():
    for lang in LANGUAGES.values():
        assert lang.name in lang.fence_tags or lang.name == "csharp"
        assert lang.packages
