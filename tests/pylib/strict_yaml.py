"""YAML for the deploy checks: Debian's python3-yaml (yaml.SafeLoader), with
a duplicate key in a mapping refused rather than the last one winning, so a
check never passes on a file whose second key hides the first."""

import yaml

__all__ = ["YamlError", "load", "load_all", "load_file"]

YamlError = yaml.YAMLError


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, "duplicate key %r" % (key,),
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_all(text):
    """Every document of a YAML stream, as Python values."""
    return list(yaml.load_all(text, Loader=_Loader))


def load(text):
    """The single document of a YAML text."""
    docs = load_all(text)
    if len(docs) != 1:
        raise YamlError("expected one document, found %d" % len(docs))
    return docs[0]


def load_file(path):
    with open(path, encoding="utf-8") as f:
        return load(f.read())
