"""A small evaluator for the IoT Hub query language subset the double needs (docs/design/iothub.md §7.2, §8).

Supported:
  SELECT * | path [AS alias] (, path [AS alias])* FROM devices | devices.modules [WHERE condition]
  conditions: AND, OR, NOT, parentheses, = != <> < <= > >=, IS_DEFINED(path), IS_NULL(path),
              path IN [v, …], path NIN [v, …], STARTSWITH(path, 'x'), ENDSWITH(path, 'x')
  (https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-query-language, "WHERE clause" and
  "Functions"); a target condition may also be "*" (every device)
  operands: paths (a.b.c, $version, configurations.[[id with-dashes]]), 'strings', "strings", numbers,
            true, false, null
Target conditions (configurations) use the same condition grammar without SELECT.
Anything else raises QueryError, which the double answers with 400 ArgumentInvalid.
"""

import re


class QueryError(Exception):
    pass


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<brackets>\[\[(?P<bracketed>.*?)\]\])
  | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op><>|!=|<=|>=|=|<|>)
  | (?P<punct>[(),.*\[\]])
  | (?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)
""", re.VERBOSE)

_UNDEFINED = object()


def tokenize(text):
    pos = 0
    out = []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise QueryError("unexpected character at %d: %r" % (pos, text[pos:pos + 10]))
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        if kind == "brackets" or m.group("brackets"):
            out.append(("ident", m.group("bracketed")))
        elif kind == "string":
            raw = m.group("string")
            q = raw[0]
            out.append(("string", raw[1:-1].replace(q + q, q)))
        elif kind == "number":
            v = m.group("number")
            out.append(("number", float(v) if "." in v else int(v)))
        elif kind == "op":
            out.append(("op", m.group("op")))
        elif kind == "punct":
            out.append(("punct", m.group("punct")))
        else:
            out.append(("ident", m.group("ident")))
    return out


class _Parser:
    def __init__(self, tokens):
        self.t = tokens
        self.i = 0

    def peek(self, offset=0):
        j = self.i + offset
        return self.t[j] if j < len(self.t) else (None, None)

    def keyword(self, word):
        kind, val = self.peek()
        if kind == "ident" and isinstance(val, str) and val.upper() == word:
            self.i += 1
            return True
        return False

    def expect_punct(self, p):
        kind, val = self.peek()
        if kind != "punct" or val != p:
            raise QueryError("expected %r" % p)
        self.i += 1

    def path(self):
        kind, val = self.peek()
        if kind != "ident":
            raise QueryError("expected a property path")
        self.i += 1
        parts = [val]
        while self.peek() == ("punct", "."):
            self.i += 1
            kind, val = self.peek()
            if kind != "ident":
                raise QueryError("expected a name after '.'")
            self.i += 1
            parts.append(val)
        return ("path", parts)

    def operand(self):
        kind, val = self.peek()
        if kind == "string" or kind == "number":
            self.i += 1
            return ("lit", val)
        if kind == "ident" and val.lower() in ("true", "false", "null"):
            self.i += 1
            return ("lit", {"true": True, "false": False, "null": None}[val.lower()])
        if kind == "ident" and val.upper() in ("IS_DEFINED", "IS_NULL") and self.peek(1) == ("punct", "("):
            self.i += 2
            p = self.path()
            self.expect_punct(")")
            return ("func", val.upper(), p)
        if kind == "ident" and val.upper() in ("STARTSWITH", "ENDSWITH") and self.peek(1) == ("punct", "("):
            self.i += 2
            p = self.path()
            self.expect_punct(",")
            k2, v2 = self.peek()
            if k2 != "string":
                raise QueryError("%s needs a string" % val.upper())
            self.i += 1
            self.expect_punct(")")
            return ("func", val.upper(), p, v2)
        return self.path()

    def literal_list(self):
        self.expect_punct("[")
        values = []
        while True:
            v = self.operand()
            if v[0] != "lit":
                raise QueryError("IN takes a list of literals")
            values.append(v[1])
            if self.peek() == ("punct", ","):
                self.i += 1
                continue
            break
        self.expect_punct("]")
        return values

    def primary(self):
        if self.peek() == ("punct", "("):
            self.i += 1
            c = self.cond()
            self.expect_punct(")")
            return c
        left = self.operand()
        kind, val = self.peek()
        if left[0] == "path" and (self.keyword("IN") or self.keyword("NIN")):
            word = self.t[self.i - 1][1].upper()
            return ("in", word == "NIN", left, self.literal_list())
        if kind == "op":
            self.i += 1
            right = self.operand()
            return ("cmp", val, left, right)
        if left[0] == "func":
            return left
        raise QueryError("expected a comparison")

    def negation(self):
        if self.keyword("NOT"):
            return ("not", self.negation())
        return self.primary()

    def conj(self):
        c = self.negation()
        while self.keyword("AND"):
            c = ("and", c, self.negation())
        return c

    def cond(self):
        c = self.conj()
        while self.keyword("OR"):
            c = ("or", c, self.conj())
        return c


def _resolve(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        else:
            return _UNDEFINED
    return cur


def _value(node, doc):
    if node[0] == "lit":
        return node[1]
    if node[0] == "path":
        return _resolve(doc, node[1])
    raise QueryError("unsupported operand")


def _compare(op, a, b):
    if a is _UNDEFINED or b is _UNDEFINED:
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        same = isinstance(a, bool) and isinstance(b, bool) and a == b
        if op == "=":
            return same
        if op in ("!=", "<>"):
            return not same
        return False
    if op == "=":
        return a == b
    if op in ("!=", "<>"):
        return a != b
    try:
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        if op == ">=":
            return a >= b
    except TypeError:
        return False
    raise QueryError("unknown operator " + op)


def evaluate(cond, doc):
    kind = cond[0]
    if kind == "and":
        return evaluate(cond[1], doc) and evaluate(cond[2], doc)
    if kind == "or":
        return evaluate(cond[1], doc) or evaluate(cond[2], doc)
    if kind == "not":
        return not evaluate(cond[1], doc)
    if kind == "cmp":
        return _compare(cond[1], _value(cond[2], doc), _value(cond[3], doc))
    if kind == "all":
        return True
    if kind == "in":
        v = _resolve(doc, cond[2][1])
        found = v is not _UNDEFINED and any(_compare("=", v, x) for x in cond[3])
        return (not found and v is not _UNDEFINED) if cond[1] else found
    if kind == "func":
        v = _resolve(doc, cond[2][1])
        if cond[1] == "IS_DEFINED":
            return v is not _UNDEFINED
        if cond[1] == "STARTSWITH":
            return isinstance(v, str) and v.startswith(cond[3])
        if cond[1] == "ENDSWITH":
            return isinstance(v, str) and v.endswith(cond[3])
        return v is None
    raise QueryError("bad condition")


def parse_condition(text):
    if text is None or text.strip() == "":
        return None
    if text.strip() == "*":
        return ("all",)
    p = _Parser(tokenize(text))
    c = p.cond()
    if p.i != len(p.t):
        raise QueryError("unexpected text after the condition")
    return c


class Query:
    def __init__(self, select, source, where):
        self.select = select  # None for *, else [(parts, alias)]
        self.source = source  # "devices" or "devices.modules"
        self.where = where

    def project(self, doc):
        if self.select is None:
            return doc
        out = {}
        for parts, alias in self.select:
            v = _resolve(doc, parts)
            if v is not _UNDEFINED:
                out[alias] = v
        return out


def parse_query(text):
    p = _Parser(tokenize(text))
    if not p.keyword("SELECT"):
        raise QueryError("a query starts with SELECT")
    select = None
    if p.peek() == ("punct", "*"):
        p.i += 1
    else:
        select = []
        while True:
            path = p.path()
            alias = path[1][-1]
            if p.keyword("AS"):
                kind, val = p.peek()
                if kind != "ident":
                    raise QueryError("expected an alias after AS")
                p.i += 1
                alias = val
            select.append((path[1], alias))
            if p.peek() == ("punct", ","):
                p.i += 1
                continue
            break
    if not p.keyword("FROM"):
        raise QueryError("expected FROM")
    src = p.path()[1]
    source = ".".join(src)
    if source not in ("devices", "devices.modules"):
        raise QueryError("unknown collection " + source)
    where = None
    if p.keyword("WHERE"):
        where = p.cond()
    if p.i != len(p.t):
        raise QueryError("unsupported query syntax near token %d" % p.i)
    return Query(select, source, where)
