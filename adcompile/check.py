"""Pass `check`: reject, before any transformation, syntax outside the supported language.

Takes a `ParsedFunction`, returns nothing; raises `UnsupportedError` at the first construct it
cannot differentiate, naming it and saying what to write instead. Constructs that need
name resolution (calls with no rule, unknown globals) are rejected by `normalize`.
"""

from __future__ import annotations

import ast

from .errors import UnsupportedError
from .source import ParsedFunction

_LOOP_HINT = "write an explicit `for i in range(n):` loop that fills an array made with np.zeros"

# node type -> (construct, hint)
REJECTED: dict[type, tuple[str, str]] = {
    ast.Try: ("try/except", "handle errors outside the differentiated function"),
    ast.With: ("`with` statements", "move the context manager outside the differentiated function"),
    ast.Lambda: ("lambda expressions", "define a module-level function with `def` and call it"),
    ast.GeneratorExp: ("generator expressions", _LOOP_HINT),
    ast.ListComp: ("list comprehensions", _LOOP_HINT),
    ast.SetComp: ("set comprehensions", _LOOP_HINT),
    ast.DictComp: ("dict comprehensions", _LOOP_HINT),
    ast.Global: ("`global` declarations", "pass the value in as an argument"),
    ast.Nonlocal: ("`nonlocal` declarations", "pass the value in as an argument"),
    ast.FunctionDef: ("nested function definitions", "define the helper at module level"),
    ast.AsyncFunctionDef: ("async functions", "use a plain `def` function"),
    ast.ClassDef: ("class definitions", "define classes outside the differentiated function"),
    ast.Dict: ("dict literals", "pass arrays or scalars as separate arguments"),
    ast.Set: ("set literals", "use arrays"),
    ast.List: ("list literals", "build arrays with np.zeros/np.ones and subscript writes"),
    ast.JoinedStr: ("f-strings", "format strings outside the differentiated function"),
    ast.Yield: ("generators (`yield`)", "return a value instead"),
    ast.YieldFrom: ("generators (`yield from`)", "return a value instead"),
    ast.Await: ("`await`", "use a plain `def` function"),
    ast.Import: ("import statements", "import at module level"),
    ast.ImportFrom: ("import statements", "import at module level"),
    ast.Raise: ("`raise`", "check inputs before calling the derivative"),
    ast.Assert: ("`assert`", "check inputs before calling the derivative"),
    ast.Delete: ("`del`", "let the variable go out of scope"),
    ast.NamedExpr: ("assignment expressions (`:=`)", "assign in a separate statement"),
    ast.Starred: ("star-arguments (`*args`)", "pass each argument by name or position"),
    ast.AsyncFor: ("async loops", "use `for i in range(n):`"),
    ast.Match: ("`match` statements", "use `if`/`elif`/`else`"),
}


def check(fn: ParsedFunction) -> None:
    """Raise UnsupportedError for the first unsupported construct in `fn`."""
    _check_signature(fn)
    for stmt in fn.tree.body:
        for node in ast.walk(stmt):
            _check_node(fn, node)


def _check_signature(fn: ParsedFunction) -> None:
    args = fn.tree.args
    if args.vararg or args.kwarg:
        node = args.vararg or args.kwarg
        raise UnsupportedError("variable arguments (`*args`, `**kwargs`) in the signature",
                               fn.location(node), "list every parameter by name")
    if args.kwonlyargs or args.posonlyargs:
        node = (args.kwonlyargs or args.posonlyargs)[0]
        raise UnsupportedError("keyword-only or positional-only parameters", fn.location(node),
                               "use plain positional parameters")


def _check_node(fn: ParsedFunction, node: ast.AST) -> None:
    if isinstance(node, ast.List) and not node.elts and _generated(fn):
        return  # an empty tape of saved values, in a derivative being differentiated again
    if type(node) in REJECTED:
        construct, hint = REJECTED[type(node)]
        raise UnsupportedError(construct, fn.location(node), hint)
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        if not _is_docstring(fn, node):
            raise UnsupportedError("strings", fn.location(node),
                                   "keep strings (labels, messages) outside the function")
    elif isinstance(node, ast.Call) and any(k.arg is None for k in node.keywords):
        raise UnsupportedError("`**kwargs` in calls", fn.location(node), "pass keywords by name")
    elif isinstance(node, (ast.Assign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for t in targets:
            _check_target(fn, t)
    elif isinstance(node, ast.Return) and node.value is None:
        raise UnsupportedError("`return` without a value", fn.location(node),
                               "return the scalar being differentiated")
    elif isinstance(node, ast.Compare) and any(isinstance(o, (ast.Is, ast.IsNot, ast.In,
                                                              ast.NotIn)) for o in node.ops):
        raise UnsupportedError("`is` / `in` comparisons", fn.location(node),
                               "compare numbers with <, <=, ==, != , >=, >")
    elif isinstance(node, ast.For):
        _check_for(fn, node)


def _check_target(fn: ParsedFunction, target: ast.expr) -> None:
    if isinstance(target, ast.Attribute):
        raise UnsupportedError("attribute assignment", fn.location(target),
                               "assign to a local variable and return or pass it instead")
    if isinstance(target, (ast.Tuple, ast.List)):
        for t in target.elts:
            _check_target(fn, t)


def _check_for(fn: ParsedFunction, node: ast.For) -> None:
    it = node.iter
    is_range = (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                and fn.resolve(it.func.id) is range and not it.keywords and 1 <= len(it.args) <= 3)
    if not is_range:
        raise UnsupportedError("`for` loops over anything but range(...)", fn.location(it),
                               "loop over indices: `for i in range(len(x)):` and read x[i]")
    if not isinstance(node.target, ast.Name):
        raise UnsupportedError("`for` loops with a tuple target", fn.location(node.target),
                               "use a single loop index")
    if node.orelse:
        raise UnsupportedError("`for ... else`", fn.location(node), "use a flag variable")
    for inner in ast.walk(node):
        if inner is not node and isinstance(inner, (ast.Assign, ast.AugAssign)):
            targets = inner.targets if isinstance(inner, ast.Assign) else [inner.target]
            for t in targets:
                if any(n.id == node.target.id for n in _target_names(t)):
                    raise UnsupportedError(
                        f"assigning to the loop index `{node.target.id}` inside its loop",
                        fn.location(inner), "use another variable")


def _target_names(target: ast.expr) -> list[ast.Name]:
    """Names an assignment target rebinds (not those inside a subscript it writes into)."""
    if isinstance(target, ast.Name):
        return [target]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for t in target.elts for n in _target_names(t)]
    return []


def _generated(fn: ParsedFunction) -> bool:
    """Whether `fn` is code adcompile wrote (being differentiated again)."""
    try:
        with open(fn.fun.__code__.co_filename) as f:
            return f.readline().startswith("# Generated by adcompile")
    except OSError:
        return False


def _is_docstring(fn: ParsedFunction, node: ast.Constant) -> bool:
    first = fn.tree.body[0] if fn.tree.body else None
    return isinstance(first, ast.Expr) and first.value is node
