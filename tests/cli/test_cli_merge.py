"""``project-merge-strategies-get/set`` and ``<resource>-vars-mask/unmask``: the real ``craton``."""

from __future__ import annotations

import httpx

from tests.cli.helpers import CLI, unique


def test_merge_strategies_and_masks_from_the_command_line(tenant: CLI) -> None:
    cli = tenant
    assert cli.json("project-merge-strategies-get") == {}
    declared = cli.json("project-merge-strategies-set", "--strategy", "ntp=union", "--strategy", "sysctl=deep")
    assert declared == {"ntp": "union", "sysctl": "deep"}
    assert cli.json("project-merge-strategies-get", cli.project_id) == declared
    assert cli.json("project-merge-strategies-set", input='{"ntp": "append"}') == {"ntp": "append"}
    assert "union" in cli.fails("project-merge-strategies-set", "--strategy", "ntp=merge", code=2)
    assert cli.json("project-merge-strategies-set", "--clear") == {}

    headers = {"X-Auth-Project": cli.project_id, "X-Auth-User": cli.username, "X-Auth-Token": cli.api_key}
    with httpx.Client(base_url=cli.url, headers=headers) as api:
        cloud = api.post("/v1/clouds", json={"name": unique("cloud"), "variables": {"proxy": "p"}}).json()
        region = api.post("/v1/regions", json={"name": "r", "cloud_id": cloud["id"]}).json()
    masks = cli.json("region-vars-mask", str(region["id"]), "proxy", "dns")
    assert masks == ["dns", "proxy"]
    assert "proxy" not in cli.json("region-vars-get", str(region["id"]), "--resolved")
    assert "proxy" in cli.ok("region-vars-unmask", str(region["id"]), "proxy")
    assert cli.json("region-vars-get", str(region["id"]), "--resolved")["proxy"] == "p"
    summaries = [r["summary"] for r in cli.json("region-history", str(region["id"]), "--all")]
    assert "masks +dns +proxy" in summaries and "masks -proxy" in summaries
