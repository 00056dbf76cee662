#!/usr/bin/env python3
"""Self-test of tools/check_abi.py.

    python3 tools/test_check_abi.py [--no-nm] [unittest options]

Copies Include/eprop.h and Sources/EpropC/*.swift to a temporary directory, introduces
each kind of drift (missing, extra, argument type, return type, argument count, typedef)
and asserts that check_abi reports it; asserts that the real tree passes. The export
check runs nm on .build/release/libeprop.so (build it with `make lib`); --no-nm (or
EPROP_ABI_TEST_NO_NM=1) skips the tests that need nm and the library.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import check_abi  # noqa: E402

ROOT = check_abi.ROOT
HEADER = os.path.join(ROOT, check_abi.DEFAULT_HEADER)
SOURCES = os.path.join(ROOT, check_abi.DEFAULT_SOURCES)
LIB = os.path.join(ROOT, check_abi.DEFAULT_LIB)
SKIP_NM = os.environ.get("EPROP_ABI_TEST_NO_NM") == "1"
if __name__ == "__main__" and "--no-nm" in sys.argv:  # before the skipIf decorators below
    sys.argv.remove("--no-nm")
    SKIP_NM = True


def run_main(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = check_abi.main(list(argv))
    return code, out.getvalue() + err.getvalue()


class Tree:
    """A temporary copy of the header and the Swift sources that a test may edit."""

    def __init__(self, tmp: str):
        self.header = os.path.join(tmp, "eprop.h")
        self.sources = os.path.join(tmp, "EpropC")
        shutil.copy(HEADER, self.header)
        shutil.copytree(SOURCES, self.sources)

    def swift_path(self, name: str) -> str:
        return os.path.join(self.sources, name)

    def edit(self, path: str, old: str, new: str, count: int = 1) -> None:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        assert text.count(old) >= 1, f"{old!r} not in {path}"
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text.replace(old, new, count))

    def edit_re(self, path: str, pattern: str, new: str) -> None:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        text2, n = re.subn(pattern, new, text, count=1, flags=re.S)
        assert n == 1, f"{pattern!r} not in {path}"
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text2)

    def append(self, path: str, text: str) -> None:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)

    def problems(self) -> list[str]:
        with open(self.header, encoding="utf-8") as fh:
            header = check_abi.parse_header(fh.read())
        return check_abi.compare(header, check_abi.parse_swift(check_abi.read_sources(self.sources)))

    def run(self) -> tuple[int, str]:
        return run_main("--header", self.header, "--sources", self.sources, "--no-nm")


class RealTree(unittest.TestCase):
    def test_header_and_swift_match(self):
        code, out = run_main("--no-nm")
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"^abi: \d+ functions match")

    def test_every_header_function_is_parsed(self):
        with open(HEADER, encoding="utf-8") as fh:
            text = fh.read()
        header = check_abi.parse_header(text)
        # Every `eprop_xxx(` at the start of a prototype, counted crudely.
        crude = set(re.findall(r"^\w[\w\s\*]*?\b(eprop_\w+)\s*\(", text, re.M))
        self.assertEqual(set(header.functions), crude)
        self.assertEqual(header.problems, [])
        self.assertIn("eprop_progress_fn", header.function_pointers)
        self.assertIn("eprop_network", header.opaque)

    @unittest.skipIf(SKIP_NM, "--no-nm")
    def test_library_exports_match(self):
        self.assertTrue(os.path.exists(LIB), f"{LIB} missing: run `make lib` or pass --no-nm")
        code, out = run_main(LIB)
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"^abi: \d+ functions match\n$")


class Drift(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tree = Tree(self._tmp.name)
        self.assertEqual(self.tree.problems(), [], "the copy must match before it is edited")

    def tearDown(self):
        self._tmp.cleanup()

    def assertDrift(self, function: str, *phrases: str) -> str:
        problems = self.tree.problems()
        self.assertTrue(problems, "no problem reported")
        mine = [p for p in problems if p.startswith(function + ":")]
        self.assertTrue(mine, f"no problem for {function}: {problems}")
        for phrase in phrases:
            self.assertTrue(any(phrase in p for p in mine), f"{phrase!r} not in {mine}")
        code, out = self.tree.run()
        self.assertEqual(code, 1, out)
        self.assertIn(function, out)
        return "\n".join(mine)

    # Functions on one side only.
    def test_missing_in_swift(self):
        self.tree.edit_re(self.tree.swift_path("CRecording.swift"),
                          r'@_cdecl\("eprop_recorder_clear"\).*?\n}\n', "")
        text = self.assertDrift("eprop_recorder_clear", "no @_cdecl")
        self.assertIn("expected: @_cdecl(\"eprop_recorder_clear\") public func eprop_recorder_clear("
                      "_ network: OpaquePointer?, _ recorder: Int32) -> Int32", text)

    def test_missing_in_header(self):
        self.tree.edit(self.tree.header, "int32_t eprop_network_time(const eprop_network *network, "
                                         "double *time_ms /* OUT */);", "")
        self.assertDrift("eprop_network_time", "not declared in the header")

    def test_extra_in_swift(self):
        self.tree.append(self.tree.swift_path("CLibrary.swift"),
                         '\n@_cdecl("eprop_extra")\npublic func eprop_extra(_ x: Int64) -> Int32 { 0 }\n')
        self.assertDrift("eprop_extra", "not declared in the header")

    def test_extra_in_header(self):
        self.tree.edit(self.tree.header, "#ifdef __cplusplus\n}",
                       "int32_t eprop_extra(int64_t x);\n\n#ifdef __cplusplus\n}")
        self.assertDrift("eprop_extra", "no @_cdecl")

    # Argument types.
    def test_argument_type_changed_in_header(self):
        self.tree.edit(self.tree.header, "const char *model, int64_t size,", "const char *model, int32_t size,")
        text = self.assertDrift("eprop_add_population", "argument 3 (size)", "needs Int32, Swift has Int64")
        self.assertIn("-    Int32,", text)
        self.assertIn("+    Int64,", text)

    def test_argument_constness_changed_in_swift(self):
        self.tree.edit(self.tree.swift_path("CConnections.swift"),
                       "_ projection: Int32, _ weights: UnsafeMutablePointer<Double>?,\n"
                       "                              _ count: Int64",
                       "_ projection: Int32, _ weights: UnsafePointer<Double>?,\n"
                       "                              _ count: Int64")
        self.assertDrift("eprop_get_weights", "argument 3 (weights)",
                         "needs UnsafeMutablePointer<Double>?, Swift has UnsafePointer<Double>?")

    def test_pointer_to_pointer_changed_in_header(self):
        # const char *const * → const char ** needs a mutable outer pointer.
        self.tree.edit(self.tree.header, "eprop_set_optimizer_parameters(eprop_network *network, const char *const *names,",
                       "eprop_set_optimizer_parameters(eprop_network *network, const char **names,")
        self.assertDrift("eprop_set_optimizer_parameters", "argument 2 (names)",
                         "needs UnsafeMutablePointer<UnsafePointer<CChar>?>?")

    def test_non_optional_pointer_argument(self):
        self.tree.edit(self.tree.swift_path("CNetwork.swift"),
                       "public func eprop_simulate(_ network: OpaquePointer?,",
                       "public func eprop_simulate(_ network: OpaquePointer,")
        self.assertDrift("eprop_simulate", "argument 1 (network)", "Swift has OpaquePointer")

    def test_callback_typedef_changed(self):
        self.tree.edit(self.tree.header, "(int64_t steps_done, int64_t steps_total, void *user_data)",
                       "(int64_t steps_done, int32_t steps_total, void *user_data)")
        self.assertDrift("eprop_simulate_progress", "argument 3 (progress)")

    def test_swift_typealias_changed(self):
        self.tree.edit(self.tree.swift_path("CNetwork.swift"),
                       "@convention(c) (Int64, Int64, UnsafeMutableRawPointer?) -> Int32",
                       "@convention(c) (Int64, Int64, UnsafeMutableRawPointer?) -> Int64")
        self.assertDrift("eprop_simulate_progress", "argument 3 (progress)")

    # Return types.
    def test_return_type_changed_in_swift(self):
        self.tree.edit(self.tree.swift_path("CLibrary.swift"),
                       "public func eprop_abi_version() -> Int32 { 1 }",
                       "public func eprop_abi_version() -> Int64 { 1 }")
        text = self.assertDrift("eprop_abi_version", "return type", "needs Int32, Swift has Int64")
        self.assertIn("-) -> Int32", text)
        self.assertIn("+) -> Int64", text)

    def test_return_type_changed_in_header(self):
        self.tree.edit(self.tree.header, "void eprop_network_destroy(eprop_network *network);",
                       "int32_t eprop_network_destroy(eprop_network *network);")
        self.assertDrift("eprop_network_destroy", "return type", "Swift has none")

    def test_void_return_added_in_swift(self):
        self.tree.edit(self.tree.swift_path("CNetwork.swift"),
                       "public func eprop_network_destroy(_ network: OpaquePointer?) {",
                       "public func eprop_network_destroy(_ network: OpaquePointer?) -> Int32 {")
        self.assertDrift("eprop_network_destroy", "return type", "needs no return type")

    def test_string_return_changed_in_header(self):
        self.tree.edit(self.tree.header, "const char *eprop_version(void);", "char *eprop_version(void);")
        self.assertDrift("eprop_version", "return type", "needs UnsafeMutablePointer<CChar>")

    # Argument counts.
    def test_argument_added_in_header(self):
        self.tree.edit(self.tree.header, "int32_t eprop_simulate(eprop_network *network, double duration_ms);",
                       "int32_t eprop_simulate(eprop_network *network, double duration_ms,\n"
                       "                       int32_t flags);")
        text = self.assertDrift("eprop_simulate", "3 arguments in the header, 2 in Swift")
        self.assertIn("-    Int32", text)

    def test_argument_removed_in_swift(self):
        self.tree.edit(self.tree.swift_path("CRecording.swift"),
                       "public func eprop_recorder_clear(_ network: OpaquePointer?, _ recorder: Int32) -> Int32",
                       "public func eprop_recorder_clear(_ network: OpaquePointer?) -> Int32")
        self.assertDrift("eprop_recorder_clear", "2 arguments in the header, 1 in Swift")

    # Other drift.
    def test_not_public(self):
        self.tree.edit(self.tree.swift_path("CNetwork.swift"), "public func eprop_network_time(",
                       "func eprop_network_time(")
        self.assertDrift("eprop_network_time", "not public")

    def test_duplicate_cdecl(self):
        self.tree.append(self.tree.swift_path("CLibrary.swift"),
                         '\n@_cdecl("eprop_version")\npublic func eprop_version2() -> UnsafePointer<CChar> '
                         '{ interned("x") }\n')
        self.assertDrift("eprop_version", "twice")

    def test_equivalent_spellings_pass(self):
        # Optional<T>, CChar = Int8, Void, typealiases and a returned optional are all the same ABI.
        sw = self.tree.swift_path("CLibrary.swift")
        self.tree.edit(sw, "public func eprop_model_count(_ count: UnsafeMutablePointer<Int64>?)",
                       "public func eprop_model_count(_ count: Optional<UnsafeMutablePointer<Swift.Int64>>)")
        self.tree.edit(sw, "public func eprop_version() -> UnsafePointer<CChar>",
                       "public func eprop_version() -> UnsafePointer<Int8>?")
        self.tree.edit(sw, "public func eprop_status_string(_ status: Int32)",
                       "public func eprop_status_string(_ status: CInt)")
        self.tree.append(sw, "\npublic typealias Count = UnsafeMutablePointer<Int64>\n")
        self.tree.edit(sw, "public func eprop_model_parameter_count(_ model: UnsafePointer<CChar>?, "
                           "_ count: UnsafeMutablePointer<Int64>?)",
                       "public func eprop_model_parameter_count(_ model: UnsafePointer<CChar>?, _ count: Count?)")
        self.tree.edit(self.tree.swift_path("CNetwork.swift"),
                       "public func eprop_network_destroy(_ network: OpaquePointer?) {",
                       "public func eprop_network_destroy(_ network: OpaquePointer?) -> Void {")
        self.assertEqual(self.tree.problems(), [])
        code, out = self.tree.run()
        self.assertEqual(code, 0, out)


class Parsing(unittest.TestCase):
    HEADER = """
    #define EPROP_API
    #define EPROP_OK 0 /* a comment in a directive */ \\
        /* continued */
    // line comment: int32_t eprop_commented_out(void);
    typedef struct eprop_thing eprop_thing;
    typedef double real_t;
    typedef int32_t (*eprop_cb)(const char *text, void *user);
    #ifdef __cplusplus
    extern "C" {
    #endif
    EPROP_API int32_t eprop_a(void);
    int32_t
    eprop_b(const eprop_thing *thing,            /* IN */
            char const *name,
            const char *const *names, const char **out /* OUT */,
            eprop_thing **made /* OUT */, real_t x, double values[], int64_t,
            eprop_cb cb, int32_t (*inline_cb)(int64_t n), const void *blob, void *user);
    const char *eprop_c(int32_t status);
    #ifdef __cplusplus
    }
    #endif
    """

    def test_header(self):
        h = check_abi.parse_header(self.HEADER)
        self.assertEqual(h.problems, [])
        self.assertEqual(list(h.functions), ["eprop_a", "eprop_b", "eprop_c"])
        params, ret = check_abi.expected_swift(h.functions["eprop_b"], h)
        self.assertEqual([check_abi.render(p) for p in params], [
            "OpaquePointer?",
            "UnsafePointer<CChar>?",
            "UnsafePointer<UnsafePointer<CChar>?>?",
            "UnsafeMutablePointer<UnsafePointer<CChar>?>?",
            "UnsafeMutablePointer<OpaquePointer?>?",
            "Double",
            "UnsafeMutablePointer<Double>?",
            "Int64",
            "(@convention(c) (UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Int32)?",
            "(@convention(c) (Int64) -> Int32)?",
            "UnsafeRawPointer?",
            "UnsafeMutableRawPointer?",
        ])
        self.assertEqual(ret, ("named", "Int32", ()))
        self.assertEqual(h.functions["eprop_b"].params[0].name, "thing")
        self.assertIsNone(h.functions["eprop_b"].params[7].name)
        self.assertEqual(h.functions["eprop_b"].line, 13)
        params, ret = check_abi.expected_swift(h.functions["eprop_c"], h)
        self.assertEqual(check_abi.render(ret), "UnsafePointer<CChar>?")

    def test_swift(self):
        src = '''
        // @_cdecl("eprop_commented") public func eprop_commented() {}
        public typealias Callback = @convention(c) (UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Int32

        /// Doc comment.
        @_cdecl("eprop_b")
        public func eprop_b(
            _ thing: OpaquePointer?,   // trailing comment
            _ name: UnsafePointer<CChar>?, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
            _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ made: UnsafeMutablePointer<OpaquePointer?>?,
            _ x: Double, _ values: UnsafeMutablePointer<Double>?, _ n: Int64,
            _ cb: Callback?, _ inlineCb: (@convention(c) (Int64) -> Int32)?,
            _ blob: UnsafeRawPointer?, _ user: UnsafeMutableRawPointer?
        ) -> Int32 {
            withStatus { () throws(EpropError) in let s = "a string with // and ) in it"; _ = s }
        }
        @_cdecl("eprop_a") public func eprop_a() -> Int32 { 0 }
        @_cdecl("eprop_c")
        public func eprop_c(_ status: Int32) -> UnsafePointer<CChar> { fatalError() }
        '''
        sw = check_abi.parse_swift({"x.swift": src})
        self.assertEqual(sw.problems, [])
        self.assertEqual(sorted(sw.functions), ["eprop_a", "eprop_b", "eprop_c"])
        self.assertEqual(sw.functions["eprop_b"].line, 6)
        h = check_abi.parse_header(Parsing.HEADER)
        self.assertEqual(check_abi.compare(h, sw), [])
        # And a drift in the inline callback is found.
        sw = check_abi.parse_swift({"x.swift": src.replace("(Int64) -> Int32", "(Int32) -> Int32")})
        problems = check_abi.compare(h, sw)
        self.assertEqual(len(problems), 1)
        self.assertIn("argument 10 (inline_cb)", problems[0])

    def test_swift_types(self):
        t = check_abi.parse_swift_type
        n = check_abi.normalize
        self.assertEqual(n(t("Optional<UnsafePointer<CChar>>")), n(t("UnsafePointer<Int8>?")))
        self.assertEqual(n(t("Void")), n(t("()")))
        self.assertNotEqual(n(t("UnsafePointer<Int8>")), n(t("UnsafePointer<Int8>?")))
        self.assertEqual(check_abi.render(t("(@convention(c) (Int64) -> Int32)?")),
                         "(@convention(c) (Int64) -> Int32)?")


class Exports(unittest.TestCase):
    NM = """\
0000000000013260 T $s6EpropC13eprop_connectys5Int32V
0000000000014b10 T eprop_a
0000000000014b20 T eprop_b@@VERS_1
0000000000014b30 D eprop_c
0000000000014b40 T eprop_stray
                 w __gmon_start__
"""

    def test_parse_nm(self):
        symbols = check_abi.parse_nm(self.NM)
        self.assertEqual(symbols["eprop_b"], "T")
        self.assertEqual(symbols["eprop_c"], "D")

    def test_check_exports(self):
        h = check_abi.parse_header(Parsing.HEADER)
        problems = check_abi.check_exports(h, check_abi.parse_nm(self.NM), "lib.so")
        text = "\n".join(problems)
        self.assertEqual(len(problems), 2, text)
        self.assertIn("eprop_c: exported by lib.so as a 'D' symbol", text)
        self.assertIn("eprop_stray: exported by lib.so but not declared in the header", text)

    @unittest.skipIf(SKIP_NM, "--no-nm")
    def test_real_library_drift(self):
        self.assertTrue(os.path.exists(LIB), f"{LIB} missing: run `make lib` or pass --no-nm")
        with open(HEADER, encoding="utf-8") as fh:
            h = check_abi.parse_header(fh.read())
        symbols = check_abi.nm_symbols(LIB)
        self.assertEqual(check_abi.check_exports(h, symbols), [])
        del symbols["eprop_simulate"]
        symbols["eprop_unlisted"] = "T"
        text = "\n".join(check_abi.check_exports(h, symbols, "lib.so"))
        self.assertIn("eprop_simulate: declared in the header", text)
        self.assertIn("not exported by lib.so", text)
        self.assertIn("eprop_unlisted: exported by lib.so but not declared in the header", text)


if __name__ == "__main__":
    unittest.main()
