"""Drives a Marathon with Debian's python3-marathon (the `marathon` package) for the sandbox tests.

Reads one JSON object on stdin:
  {"servers": url, "auth_token"?: str, "username"?: str, "password"?: str,
   "calls": [{"call": name, "args"?: [...], "kwargs"?: {...}}, ...]}
and prints one JSON array on stdout: per call {"ok": result} or {"error": {...}}, where result is
what the library parsed, written back as JSON by the library's own minimal encoder (nulls and
empty collections left out; datetimes as %Y-%m-%dT%H:%M:%S.%fZ).

Besides the MarathonClient methods, two calls do what a script does with the library:
  {"call": "update_app_read_back", "app_id": id, "image"?: str, "instances"?: int, "force"?: bool}
      get_app, change the image and/or instances on the object read, update_app with it
  {"call": "update_apps_read_back", "apps": [{"app_id", "image"?, "instances"?}], "force"?: bool}
      get_app for each, change them, one update_apps with all
"""
import json
import sys

from marathon import MarathonClient
from marathon.exceptions import MarathonHttpError
from marathon.util import MarathonMinimalJsonEncoder


def read_back(client, spec):
    app = client.get_app(spec["app_id"])
    if "image" in spec:
        app.container.docker.image = spec["image"]
    if "instances" in spec:
        app.instances = spec["instances"]
    return app


def run(client, call):
    name = call["call"]
    if name == "update_app_read_back":
        app = read_back(client, call)
        return client.update_app(call["app_id"], app, force=call.get("force", False))
    if name == "update_apps_read_back":
        apps = [read_back(client, spec) for spec in call["apps"]]
        return client.update_apps(apps, force=call.get("force", False))
    result = getattr(client, name)(*call.get("args", []), **call.get("kwargs", {}))
    if isinstance(result, bytes):
        return result.decode("utf-8")
    return result


def error(e):
    out = {"type": type(e).__name__, "message": str(e)}
    if isinstance(e, MarathonHttpError):
        out["status"] = e.status_code
        out["error_message"] = e.error_message
    return out


def main():
    request = json.load(sys.stdin)
    client = MarathonClient(
        request["servers"],
        username=request.get("username"),
        password=request.get("password"),
        auth_token=request.get("auth_token"),
        timeout=30,
    )
    results = []
    for call in request["calls"]:
        try:
            results.append({"ok": run(client, call)})
        except Exception as e:  # every failure is reported, the test decides
            results.append({"error": error(e)})
    json.dump(results, sys.stdout, cls=MarathonMinimalJsonEncoder)


if __name__ == "__main__":
    main()
