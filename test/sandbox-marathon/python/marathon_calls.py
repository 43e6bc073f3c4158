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
  {"call": "deploy_and_follow", "app_id": id, "image": str}
      attaches to the event stream (event_stream, filtered to event_stream_attached and the
      deployment events), changes the image once attached, and reads events until its deployment
      ends: the events the library parsed, as {"event_type", "id"?}
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


def deploy_and_follow(client, spec):
    stream = client.event_stream(event_types=["event_stream_attached", "deployment_success", "deployment_failed"])
    seen = [next(stream)]  # attached: what comes next is not missed
    started = client.update_app(spec["app_id"], read_back(client, spec))
    for event in stream:
        seen.append(event)
        if getattr(event, "id", None) == started["deploymentId"]:
            break
    events = [{"event_type": e.event_type, **({"id": e.id} if getattr(e, "id", None) is not None else {})} for e in seen]
    return {"deploymentId": started["deploymentId"], "events": events}


def run(client, call):
    name = call["call"]
    if name == "update_app_read_back":
        app = read_back(client, call)
        return client.update_app(call["app_id"], app, force=call.get("force", False))
    if name == "update_apps_read_back":
        apps = [read_back(client, spec) for spec in call["apps"]]
        return client.update_apps(apps, force=call.get("force", False))
    if name == "deploy_and_follow":
        return deploy_and_follow(client, call)
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
