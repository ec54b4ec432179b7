#!/usr/bin/python3
"""validate.py FILE...: an offline check of Kubernetes manifests.

No cluster and no downloaded schema: the types are the API models of
Debian's python3-kubernetes (the generated client of Kubernetes 1.22, whose
apps/v1 and core/v1 types these manifests use).  Every field of every
object is looked up in its model: an unknown or misspelt field, a wrong
type (a number where the API wants a string, as an unquoted annotation), or
a missing required field is an error.  Then the references between the
objects: selectors and labels, volumes and mounts, ConfigMaps and their
keys, named ports, the Prometheus port annotation.

Prints one line per object checked and per error; exits 1 on any error.
"""
import re
import sys

import kubernetes.client as kc
import yaml

errors = []
checked = []


def err(path, msg):
    errors.append("%s: %s" % (path, msg))


def model_of(api_version, kind):
    """The client's model class for apiVersion/kind, or None."""
    version = api_version.split("/")[-1]
    return getattr(kc, version[0].upper() + version[1:] + kind, None)


def check_value(value, typ, path):
    """Check value against an openapi_types string of the client."""
    if typ == "object":                 # IntOrString, RawExtension
        return
    m = re.fullmatch(r"list\[(.+)\]", typ)
    if m:
        if not isinstance(value, list):
            err(path, "expected a list, got %r" % (value,))
            return
        for i, v in enumerate(value):
            check_value(v, m.group(1), "%s[%d]" % (path, i))
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", typ)
    if m:
        if not isinstance(value, dict):
            err(path, "expected a map, got %r" % (value,))
            return
        for k, v in value.items():
            sub = "%s.%s" % (path, k)
            # Resource quantities may be written as numbers (cpu: 1).
            if (m.group(1) == "str" and isinstance(v, (int, float))
                    and not isinstance(v, bool)
                    and re.search(r"\.(limits|requests)$", path)):
                continue
            check_value(v, m.group(1), sub)
        return
    if typ in ("str", "datetime", "date"):
        if not isinstance(value, str):
            err(path, "expected a string, got %r (quote it)" % (value,))
        return
    if typ == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            err(path, "expected an integer, got %r" % (value,))
        return
    if typ == "bool":
        if not isinstance(value, bool):
            err(path, "expected true or false, got %r" % (value,))
        return
    if typ == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            err(path, "expected a number, got %r" % (value,))
        return
    cls = getattr(kc, typ, None)
    if cls is None:
        err(path, "no model %s in python3-kubernetes" % typ)
        return
    check_model(value, cls, path)


def check_model(value, cls, path):
    if not isinstance(value, dict):
        err(path, "expected an object (%s), got %r" % (cls.__name__, value))
        return
    by_json = {j: a for a, j in cls.attribute_map.items()}
    present = {}
    for key, v in value.items():
        attr = by_json.get(key)
        if attr is None:
            err("%s.%s" % (path, key), "unknown field of %s" % cls.__name__)
            continue
        present[attr] = v
        check_value(v, cls.openapi_types[attr], "%s.%s" % (path, key))
    # The generated constructors refuse None for the required fields: build
    # one with what is present (placeholder values) to learn what is not.
    try:
        cls(**{a: "x" for a in present})
    except ValueError as e:
        m = re.search(r"`(\w+)`, must not be `None`", str(e))
        field = cls.attribute_map.get(m.group(1), m.group(1)) if m else "?"
        err(path, "missing required field %s of %s" % (field, cls.__name__))
    except TypeError:
        pass


DNS1123 = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*"
                     r"[a-z0-9])?)*")


def check_pod(pod, where, configmaps, annotations):
    """References inside a pod spec: volumes, ConfigMap keys, ports."""
    volumes = {v.get("name"): v for v in pod.get("volumes", [])}
    for name, v in volumes.items():
        cm = v.get("configMap")
        if cm is None:
            continue
        data = configmaps.get(cm.get("name"))
        if data is None:
            err(where, "volume %s: no ConfigMap %s in these files"
                % (name, cm.get("name")))
            continue
        for item in cm.get("items", []):
            if item.get("key") not in data:
                err(where, "volume %s: ConfigMap %s has no key %s"
                    % (name, cm.get("name"), item.get("key")))
    all_ports = set()
    for c in pod.get("containers", []) + pod.get("initContainers", []):
        cw = "%s container %s" % (where, c.get("name"))
        ports = {}
        for p in c.get("ports", []):
            if "name" in p:
                if len(p["name"]) > 15:
                    err(cw, "port name %s longer than 15" % p["name"])
                ports[p["name"]] = p.get("containerPort")
            all_ports.add(p.get("containerPort"))
        for vm in c.get("volumeMounts", []):
            v = volumes.get(vm.get("name"))
            if v is None:
                err(cw, "mounts volume %s, which the pod lacks"
                    % vm.get("name"))
                continue
            sub = vm.get("subPath")
            cm = v.get("configMap")
            if sub and cm and not cm.get("items"):
                if sub not in configmaps.get(cm.get("name"), {}):
                    err(cw, "subPath %s: no such key in ConfigMap %s"
                        % (sub, cm.get("name")))
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            pr = c.get(probe) or {}
            for act in ("httpGet", "tcpSocket", "grpc"):
                port = (pr.get(act) or {}).get("port")
                if isinstance(port, str) and port not in ports:
                    err(cw, "%s: no port named %s" % (probe, port))
            cmd = (pr.get("exec") or {}).get("command")
            if pr.get("exec") is not None and not cmd:
                err(cw, "%s: exec without a command" % probe)
    if annotations.get("prometheus.io/scrape") == "true":
        port = annotations.get("prometheus.io/port")
        if not str(port).isdigit() or int(port) not in all_ports:
            err(where, "prometheus.io/port %r is no containerPort" % (port,))
    return all_ports


def main(files):
    docs = []
    for f in files:
        with open(f) as fh:
            for i, d in enumerate(yaml.safe_load_all(fh)):
                if d is not None:
                    docs.append(("%s#%d" % (f, i + 1), d))
    configmaps = {}
    for where, d in docs:
        if d.get("kind") == "ConfigMap":
            configmaps[d.get("metadata", {}).get("name")] = d.get("data", {})
    pods = []
    for where, d in docs:
        if d.get("kind") == "Kustomization":
            continue
        api, kind = d.get("apiVersion"), d.get("kind")
        name = (d.get("metadata") or {}).get("name", "")
        where = "%s %s/%s" % (where, kind, name)
        cls = model_of(api or "", kind or "")
        if cls is None:
            err(where, "unknown apiVersion/kind %s %s" % (api, kind))
            continue
        check_model(d, cls, where)
        if not DNS1123.fullmatch(name) or len(name) > 253:
            err(where, "metadata.name %r is not a DNS-1123 name" % name)
        checked.append(where)
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            tpl = d.get("spec", {}).get("template", {})
            labels = tpl.get("metadata", {}).get("labels", {})
            sel = d.get("spec", {}).get("selector", {}).get("matchLabels", {})
            for k, v in sel.items():
                if labels.get(k) != v:
                    err(where, "selector %s=%s does not match the pod "
                        "template's labels" % (k, v))
            ann = tpl.get("metadata", {}).get("annotations", {})
            check_pod(tpl.get("spec", {}), where, configmaps, ann)
            pods.append((labels, tpl.get("spec", {})))
    for where, d in docs:
        if d.get("kind") != "Service":
            continue
        where = "%s Service/%s" % (where, d["metadata"].get("name"))
        sel = d.get("spec", {}).get("selector", {})
        match = [p for labels, p in pods
                 if all(labels.get(k) == v for k, v in sel.items())]
        if not match:
            err(where, "selector %s matches no pod template here" % sel)
            continue
        names = {p.get("name") for spec in match
                 for c in spec.get("containers", [])
                 for p in c.get("ports", [])}
        for p in d.get("spec", {}).get("ports", []):
            tp = p.get("targetPort")
            if isinstance(tp, str) and tp not in names:
                err(where, "targetPort %s: no container port of that name"
                    % tp)
    for c in checked:
        print("validate: %s" % c)
    for e in errors:
        print("validate: ERROR %s" % e)
    print("validate: %d objects, %d errors (types of python3-kubernetes %s)"
          % (len(checked), len(errors), __import__("kubernetes").__version__))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
