"""A small YAML reader for the deploy checks (python3 standard library only).

It reads the block-style YAML that this repository writes and that
`kubectl kustomize` prints: mappings, sequences (indented or not), plain,
quoted and multi-line scalars, literal/folded block scalars, simple flow
collections and multiple documents. Anchors, aliases, tags and complex keys
are refused with an error rather than misread, so a check can never pass on
YAML it did not understand.
"""

import re

__all__ = ["YamlError", "load", "load_all"]


class YamlError(Exception):
    pass


_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUES = {"true", "True", "TRUE"}
_FALSES = {"false", "False", "FALSE"}
_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def _resolve_plain(text):
    if text in _NULLS:
        return None
    if text in _TRUES:
        return True
    if text in _FALSES:
        return False
    if _INT.match(text):
        return int(text, 10)
    if text.startswith(("0x", "0X")) and re.match(r"^0[xX][0-9a-fA-F]+$", text):
        return int(text, 16)
    if text.startswith("0o") and re.match(r"^0o[0-7]+$", text):
        return int(text[2:], 8)
    if _FLOAT.match(text):
        return float(text)
    if text in (".inf", ".Inf", ".INF", "+.inf"):
        return float("inf")
    if text in ("-.inf", "-.Inf", "-.INF"):
        return float("-inf")
    if text in (".nan", ".NaN", ".NAN"):
        return float("nan")
    return text


_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n",
    "v": "\v", "f": "\f", "r": "\r", "e": "\x1b", " ": " ", '"': '"',
    "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028",
    "P": "\u2029",
}


def _fold_flow_lines(raw_lines):
    """Line folding of a multi-line flow scalar (plain or quoted)."""
    out = ""
    empties = 0
    for i, line in enumerate(raw_lines):
        if i > 0:
            line = line.lstrip(" \t")
        if i < len(raw_lines) - 1:
            line = line.rstrip(" \t")
        if line == "" and 0 < i < len(raw_lines) - 1:
            empties += 1
            continue
        if i == 0:
            out = line
        elif empties:
            out += "\n" * empties + line
        else:
            out += (" " if out and line else "") + line
        empties = 0
    return out


def _unescape_double(body):
    res = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            res.append(c)
            i += 1
            continue
        i += 1
        if i >= len(body):
            raise YamlError("dangling backslash in double-quoted scalar")
        e = body[i]
        if e in _ESCAPES:
            res.append(_ESCAPES[e])
            i += 1
        elif e in "xuU":
            n = {"x": 2, "u": 4, "U": 8}[e]
            res.append(chr(int(body[i + 1:i + 1 + n], 16)))
            i += 1 + n
        elif e == "\n":
            i += 1
            while i < len(body) and body[i] in " \t":
                i += 1
        else:
            raise YamlError("unknown escape \\" + e)
    return "".join(res)


class _Parser:
    def __init__(self, text):
        self.lines = text.replace("\r\n", "\n").split("\n")
        self.i = 0

    # ------------------------------------------------------------ helpers
    def _err(self, msg):
        raise YamlError("line %d: %s" % (self.i + 1, msg))

    @staticmethod
    def _indent(line):
        return len(line) - len(line.lstrip(" "))

    @staticmethod
    def _is_blank(line):
        s = line.strip()
        return s == "" or s.startswith("#")

    def _skip_blank(self):
        while self.i < len(self.lines) and self._is_blank(self.lines[self.i]):
            if self.lines[self.i].startswith(("---", "...")):
                return
            self.i += 1

    def _at_doc_marker(self):
        if self.i >= len(self.lines):
            return False
        line = self.lines[self.i]
        return line == "---" or line.startswith("--- ") or line == "..."

    @staticmethod
    def _strip_comment(text):
        """Drops a ` #` comment outside quotes from a line fragment."""
        quote = None
        i = 0
        while i < len(text):
            c = text[i]
            if quote == '"':
                if c == "\\":
                    i += 2
                    continue
                if c == '"':
                    quote = None
            elif quote == "'":
                if c == "'":
                    if i + 1 < len(text) and text[i + 1] == "'":
                        i += 2
                        continue
                    quote = None
            elif c in "\"'" and (i == 0 or text[i - 1] in " \t[{,:"):
                quote = c
            elif c == "#" and (i == 0 or text[i - 1] in " \t"):
                return text[:i].rstrip()
            i += 1
        return text.rstrip()

    @staticmethod
    def _split_key(content):
        """Returns (key, rest) if content is `key: rest`, else None."""
        if content.startswith('"'):
            m = re.match(r'^"((?:[^"\\]|\\.)*)"\s*:(?:\s+|$)', content)
            if m:
                return _unescape_double(m.group(1)), content[m.end():]
            return None
        if content.startswith("'"):
            m = re.match(r"^'((?:[^']|'')*)'\s*:(?:\s+|$)", content)
            if m:
                return m.group(1).replace("''", "'"), content[m.end():]
            return None
        if content.startswith(("[", "{", "- ", "#", "|", ">", "%", "@", "`")) or content == "-":
            return None
        if content.startswith(("? ", "&", "*", "!")):
            return None
        m = re.search(r":(\s|$)", content)
        if not m:
            return None
        key = content[:m.start()]
        if " #" in key:
            return None
        return key.rstrip(), content[m.end():]

    # ------------------------------------------------------------ nodes
    def parse_document(self):
        self._skip_blank()
        if self.i >= len(self.lines) or self._at_doc_marker():
            return None
        line = self.lines[self.i]
        return self._parse_block(self._indent(line), -1)

    def _parse_block(self, indent, parent_indent):
        line = self.lines[self.i]
        content = line[indent:]
        if content.startswith(("&", "*", "!")):
            self._err("anchors, aliases and tags are not supported")
        if content == "-" or content.startswith("- "):
            return self._parse_seq(indent)
        if self._split_key(content) is not None:
            return self._parse_map(indent)
        if content.startswith("? "):
            self._err("complex keys are not supported")
        return self._parse_scalar_at(indent, content, parent_indent)

    def _parse_seq(self, indent):
        items = []
        while True:
            self._skip_blank()
            if self.i >= len(self.lines) or self._at_doc_marker():
                break
            line = self.lines[self.i]
            ind = self._indent(line)
            if ind < indent:
                break
            if ind > indent:
                self._err("bad indentation in sequence")
            content = line[ind:]
            if not (content == "-" or content.startswith("- ")):
                break
            rest = content[1:]
            stripped = rest.lstrip(" ")
            if self._strip_comment(stripped) == "":
                self.i += 1
                items.append(self._parse_nested(indent, allow_same_indent_seq=False))
                continue
            col = ind + 1 + (len(rest) - len(stripped))
            # Re-read the item as if "- " were spaces: a nested map or
            # sequence starts at the item's own column.
            self.lines[self.i] = " " * col + stripped
            items.append(self._parse_block(col, indent))
        return items

    def _parse_map(self, indent):
        result = {}
        while True:
            self._skip_blank()
            if self.i >= len(self.lines) or self._at_doc_marker():
                break
            line = self.lines[self.i]
            ind = self._indent(line)
            if ind < indent:
                break
            if ind > indent:
                self._err("bad indentation in mapping")
            content = line[ind:]
            split = self._split_key(content)
            if split is None:
                if content == "-" or content.startswith("- "):
                    break
                self._err("expected `key: value`, got %r" % content)
            key, rest = split
            if key in result:
                self._err("duplicate key %r" % key)
            rest_nc = self._strip_comment(rest)
            if rest_nc == "":
                self.i += 1
                result[key] = self._parse_nested(indent, allow_same_indent_seq=True)
            else:
                col = len(line) - len(rest)
                result[key] = self._parse_inline_value(rest, col, indent)
        return result

    def _parse_nested(self, parent_indent, allow_same_indent_seq):
        """The block node under a `key:` or `-` with nothing after it."""
        self._skip_blank()
        if self.i >= len(self.lines) or self._at_doc_marker():
            return None
        line = self.lines[self.i]
        ind = self._indent(line)
        content = line[ind:]
        if ind > parent_indent:
            return self._parse_block(ind, parent_indent)
        if (ind == parent_indent and allow_same_indent_seq
                and (content == "-" or content.startswith("- "))):
            return self._parse_seq(ind)
        return None

    def _parse_inline_value(self, rest, col, parent_indent):
        """A value that starts on the `key:` line at column col."""
        if rest.startswith(("&", "*", "!")):
            self._err("anchors, aliases and tags are not supported")
        if rest.startswith(("|", ">")):
            return self._parse_block_scalar(rest, parent_indent)
        if rest == "-" or rest.startswith("- "):
            self._err("a sequence cannot start on the line of its key")
        return self._parse_scalar_at(col, rest, parent_indent)

    def _parse_scalar_at(self, col, text, parent_indent):
        """A flow scalar or flow collection starting at (self.i, col)."""
        if text.startswith(("[", "{")):
            return self._parse_flow_collection(col)
        if text.startswith(("|", ">")):
            return self._parse_block_scalar(text, parent_indent)
        if text.startswith('"') or text.startswith("'"):
            return self._parse_quoted(col, text[0])
        # Plain scalar, maybe continued on more-indented lines.
        parts = [self._strip_comment(text)]
        if re.search(r":(\s|$)", parts[0]):
            self._err("mapping values are not allowed here: %r" % parts[0])
        self.i += 1
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip() == "":
                parts.append("")
                self.i += 1
                continue
            if self._indent(line) <= parent_indent or line.lstrip().startswith("#"):
                break
            if self._at_doc_marker():
                break
            nc = self._strip_comment(line)
            parts.append(nc.strip())
            self.i += 1
            if nc != line.rstrip():
                break
        while parts and parts[-1] == "":  # trailing blank lines are not ours
            parts.pop()
            self.i -= 1
        value = _fold_flow_lines(parts) if len(parts) > 1 else parts[0]
        if value.startswith(("&", "*", "!")):
            self._err("anchors, aliases and tags are not supported")
        return _resolve_plain(value)

    def _parse_quoted(self, col, quote):
        raw = self.lines[self.i][col + 1:]
        collected = []
        start_line = self.i
        while True:
            end = self._find_closing(raw, quote)
            if end is not None:
                collected.append(raw[:end])
                after = raw[end + 1:]
                if self._strip_comment(after).strip() != "":
                    self._err("text after closing quote: %r" % after)
                self.i += 1
                break
            collected.append(raw)
            self.i += 1
            if self.i >= len(self.lines):
                self.i = start_line
                self._err("unterminated quoted scalar")
            raw = self.lines[self.i]
        if quote == "'":
            body = _fold_flow_lines(collected) if len(collected) > 1 else collected[0]
            return body.replace("''", "'")
        # Double-quoted: an escaped line break joins without a space.
        joined = []
        for n, part in enumerate(collected):
            if n < len(collected) - 1 and part.endswith("\\") and not part.endswith("\\\\"):
                joined.append(part[:-1])
                joined.append(None)
            else:
                joined.append(part)
        # Fold, honouring the escaped breaks marked with None.
        out_lines = []
        glue_next = False
        for part in joined:
            if part is None:
                glue_next = True
                continue
            if glue_next and out_lines:
                out_lines[-1] = out_lines[-1] + part.lstrip(" \t")
            else:
                out_lines.append(part)
            glue_next = False
        body = _fold_flow_lines(out_lines) if len(out_lines) > 1 else out_lines[0]
        return _unescape_double(body)

    @staticmethod
    def _find_closing(raw, quote):
        i = 0
        while i < len(raw):
            c = raw[i]
            if quote == '"' and c == "\\":
                i += 2
                continue
            if c == quote:
                if quote == "'" and i + 1 < len(raw) and raw[i + 1] == "'":
                    i += 2
                    continue
                return i
            i += 1
        return None

    def _parse_block_scalar(self, header, parent_indent):
        header = self._strip_comment(header)
        m = re.match(r"^([|>])([+-]?)([1-9]?)([+-]?)$", header)
        if not m or (m.group(2) and m.group(4)):
            self._err("bad block scalar header %r" % header)
        style = m.group(1)
        chomp = m.group(2) or m.group(4)
        explicit = int(m.group(3)) if m.group(3) else None
        self.i += 1
        block_indent = None
        if explicit is not None:
            block_indent = (parent_indent if parent_indent >= 0 else 0) + explicit
        body = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip() == "":
                body.append("")
                self.i += 1
                continue
            ind = self._indent(line)
            if block_indent is None:
                if ind <= parent_indent:
                    break
                block_indent = ind
            if ind < block_indent:
                break
            body.append(line[block_indent:])
            self.i += 1
        # Trailing blank lines belong to chomping, not content.
        trailing = 0
        while body and body[-1] == "":
            body.pop()
            trailing += 1
        if style == "|":
            text = "\n".join(body)
        else:
            text = ""
            empties = 0
            prev_more = False
            first = True
            for line in body:
                if line == "":
                    empties += 1
                    continue
                more = line[0] in " \t"
                if first:
                    text = "\n" * empties + line
                elif empties == 0:
                    text += ("\n" if (more or prev_more) else " ") + line
                elif more or prev_more:
                    text += "\n" * (empties + 1) + line
                else:
                    text += "\n" * empties + line
                empties = 0
                prev_more = more
                first = False
        if chomp == "-" or not body:
            suffix = "" if chomp != "+" else "\n" * trailing
        elif chomp == "+":
            suffix = "\n" + "\n" * trailing
        else:
            suffix = "\n"
        return text + suffix

    # ------------------------------------------------------ flow collections
    def _parse_flow_collection(self, col):
        text = self.lines[self.i][col:]
        start = self.i
        # Gather lines until brackets balance.
        while True:
            depth = self._bracket_depth(text)
            if depth == 0:
                break
            self.i += 1
            if self.i >= len(self.lines):
                self.i = start
                self._err("unterminated flow collection")
            text += " " + self.lines[self.i].strip()
        self.i += 1
        value, pos = _Flow(text).parse()
        if self._strip_comment(text[pos:]).strip() != "":
            self.i = start
            self._err("text after flow collection: %r" % text[pos:])
        return value

    @staticmethod
    def _bracket_depth(text):
        depth = 0
        quote = None
        i = 0
        while i < len(text):
            c = text[i]
            if quote:
                if c == "\\" and quote == '"':
                    i += 2
                    continue
                if c == quote:
                    quote = None
            elif c in "\"'":
                quote = c
            elif c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    return 0
            elif c == "#" and i > 0 and text[i - 1] == " ":
                break
            i += 1
        return depth


class _Flow:
    def __init__(self, text):
        self.t = text
        self.p = 0

    def _ws(self):
        while self.p < len(self.t) and self.t[self.p] in " \t":
            self.p += 1

    def parse(self):
        self._ws()
        v = self._node()
        return v, self.p

    def _node(self):
        self._ws()
        c = self.t[self.p]
        if c == "[":
            self.p += 1
            out = []
            while True:
                self._ws()
                if self.t[self.p] == "]":
                    self.p += 1
                    return out
                out.append(self._node())
                self._ws()
                if self.t[self.p] == ",":
                    self.p += 1
                elif self.t[self.p] != "]":
                    raise YamlError("bad flow sequence: %r" % self.t)
        if c == "{":
            self.p += 1
            out = {}
            while True:
                self._ws()
                if self.t[self.p] == "}":
                    self.p += 1
                    return out
                key = self._node()
                self._ws()
                if self.t[self.p] != ":":
                    raise YamlError("bad flow mapping: %r" % self.t)
                self.p += 1
                val = self._node()
                out[key] = val
                self._ws()
                if self.t[self.p] == ",":
                    self.p += 1
                elif self.t[self.p] != "}":
                    raise YamlError("bad flow mapping: %r" % self.t)
        if c in "\"'":
            end = _Parser._find_closing(self.t[self.p + 1:], c)
            if end is None:
                raise YamlError("unterminated quote in %r" % self.t)
            body = self.t[self.p + 1:self.p + 1 + end]
            self.p += end + 2
            return _unescape_double(body) if c == '"' else body.replace("''", "'")
        if c in "&*!":
            raise YamlError("anchors, aliases and tags are not supported")
        start = self.p
        while self.p < len(self.t):
            ch = self.t[self.p]
            if ch in ",]}":
                break
            if ch == ":" and (self.p + 1 >= len(self.t) or self.t[self.p + 1] in " ,]}"):
                break
            self.p += 1
        return _resolve_plain(self.t[start:self.p].strip())


def load_all(text):
    """Every document of a YAML stream, as Python values."""
    parser = _Parser(text)
    docs = []
    while True:
        parser._skip_blank()
        if parser.i >= len(parser.lines):
            break
        if parser._at_doc_marker():
            marker = parser.lines[parser.i]
            parser.i += 1
            if marker.startswith("--- ") and marker[4:].strip():
                parser.i -= 1
                parser.lines[parser.i] = marker[4:]
            continue
        if parser.lines[parser.i].startswith("%"):
            parser._err("directives are not supported")
        doc = parser.parse_document()
        parser._skip_blank()
        if parser.i < len(parser.lines) and not parser._at_doc_marker():
            parser._err("unexpected text %r" % parser.lines[parser.i])
        docs.append(doc)
    return docs


def load(text):
    """The single document of a YAML text."""
    docs = load_all(text)
    if len(docs) != 1:
        raise YamlError("expected one document, found %d" % len(docs))
    return docs[0]


def load_file(path):
    with open(path, encoding="utf-8") as f:
        return load(f.read())
