"""The language registry."""

import pytest

from oorl.csharp_source import prepare as prepare_csharp
from oorl.langs import LANGUAGES, UnknownLanguageError, canonical_language, get_language, with_sentinel


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


def test_a_sentinel_is_left_out_where_its_edits_do_not_fit():
    go = get_language("go")
    two_mains = "package main\nfunc main() {}\nfunc main() {}\n"
    assert go.sentinel_for("package main\nfunc main() {}\n") is not None
    assert go.sentinel_for(two_mains) is None


def test_with_sentinel_wraps_the_entry_point_and_keeps_the_program():
    rust = get_language("rust")
    code = "fn main() {\n    assert_eq!(1, 1);\n}\n"
    wrapped = with_sentinel(rust, code, rust.sentinel_for(code), "f00d")
    assert "fn oorl_user_main() {" in wrapped and 'println!("\\nf00d")' in wrapped
    assert wrapped.startswith("fn oorl_user_main() {\n    assert_eq!(1, 1);\n}\n")


def test_test_runner_counts():
    assert get_language("rust").tests_passed("test result: ok. 3 passed; 0 failed") == 3
    go_output = "--- PASS: TestA (0.00s)\n    --- PASS: TestA/one (0.00s)\n--- PASS: TestB (0.00s)\nPASS\n"
    assert get_language("go").tests_passed(go_output) == 2  # top-level tests only
    assert get_language("go").expected_tests("func TestA(t *testing.T) {}\nfunc TestB(t *testing.T) {}") == 2
    assert (
        get_language("rust").expected_tests("/*\n#[test]\nfn a() {}\n*/\n// #[test]\n#[test]\nfn b() {}") == 1
    )


@pytest.mark.parametrize(
    "code",
    [
        "Console.WriteLine(1);\nConsole.WriteLine(Twice(2));\n\nstatic int Twice(int x) => 2 * x;\n",
        "using System.Text;\nvar sb = new StringBuilder();\nawait Task.Delay(1);\nclass Helper { }\n",
        "class P { static void Main() { Console.WriteLine(1); } }\n",
    ],
)
def test_csharp_preparation_keeps_line_numbers(code):
    prepared = prepare_csharp(code)
    assert prepared.count("\n") == code.count("\n")
    assert prepared.startswith("using System; ")
    assert ("static void Main(string[] args)" in prepared) == ("Main()" not in code)


def test_node_types_leave_out_what_a_program_declares_itself():
    ts = get_language("typescript")
    ((name, text),) = ts.support_files("declare const require: any;\nconsole.log(1);\n")
    assert name in ts.compile_argv("x")
    assert "declare var require" not in text and "declare var process: any;" in text
