# Copyright: Craton developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ansible inventory plugin ``openstack.craton.craton``: one request to ``/v1/ansible-inventory``."""

from __future__ import annotations

DOCUMENTATION = r"""
name: craton
short_description: Hosts, groups and variables from a Craton fleet inventory
version_added: 1.0.0
author:
  - Craton developers
description:
  - Reads the whole inventory from a Craton service with a single C(GET /v1/ansible-inventory)
    request. The server computes groups and resolved variables, so the plugin makes one request
    however large the fleet is.
  - Groups. One group per region, named after the region; one group per cell, named
    C(<region>_<cell>) and a child of its region group; one group per label. Characters other
    than letters, digits and C(_) become C(_), and a name that starts with a digit gets a leading
    C(_) (C(us-east-1) becomes C(us_east_1), C(2nd floor) becomes C(_2nd_floor)).
  - Variables. A region group carries the region's own variables and a cell group the cell's own
    variables. Each host gets its resolved variables (its own, then its parent devices', cell's,
    region's, cloud's and project's; the nearest level wins per top-level key) plus
    C(ansible_host) set to its IP address, unless the host already has an C(ansible_host) variable.
  - The host name in the inventory is the device name. When two visible hosts share a name (in
    different regions), the later one is named C(<name>-<id>), or C(<name>-<id>-2) if a host is
    really called C(<name>-<id>).
  - The inventory source file name must end in C(craton.yml) or C(craton.yaml).
  - Uses only the Python standard library, so it runs inside any Ansible installation.
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: Marks this file as a source for this plugin.
    required: true
    choices: ['openstack.craton.craton']
  url:
    description:
      - Base URL of the Craton API, for example V(http://craton.example.com:7780).
      - A trailing C(/v1) is accepted and ignored.
    type: str
    required: true
    env:
      - name: CRATON_URL
  project_id:
    description: UUID of the project to act in (header C(X-Auth-Project)).
    type: str
    env:
      - name: OS_PROJECT_ID
  username:
    description: Craton user name (header C(X-Auth-User)).
    type: str
    env:
      - name: OS_USERNAME
  api_key:
    description:
      - The user's API key (header C(X-Auth-Token)).
      - Prefer the environment variable over writing the key into the inventory file.
    type: str
    env:
      - name: OS_PASSWORD
  cloud_id:
    description: Only hosts of this cloud.
    type: int
  region_id:
    description: Only hosts of this region.
    type: int
  cell_id:
    description: Only hosts of this cell.
    type: int
  label:
    description:
      - Only hosts that carry all of these labels (a list, or one string with commas).
    type: list
    elements: str
  network_devices:
    description:
      - Also put network devices in the inventory, as hosts grouped like hosts (region, cell,
        label, device type groups) and with their resolved variables.
    type: bool
    default: false
  group_by:
    description:
      - Which groups the server builds, from V(cloud), V(region), V(cell), V(label) and
        V(device_type). Cells are children of their region's group (or of the cloud's when regions
        are not grouped), regions of their cloud's.
      - Hosts that end up in no group are direct members of C(all).
      - For groups from variables, use C(keyed_groups), C(groups) and C(compose) as well.
    type: list
    elements: str
    choices: ['cloud', 'region', 'cell', 'label', 'device_type']
    default: ['region', 'cell', 'label']
  invalid_variable_names:
    description:
      - What to do with variable keys that Ansible does not accept as variable names (spaces,
        dashes, a leading digit, V(true)...). Craton accepts any key; ansible-core 2.19 warns about
        such names in an inventory and 2.23 will refuse them.
      - V(skip) leaves them out and prints one warning naming the hosts, groups and keys.
        V(keep) passes them on (ansible-core then warns for each).
    type: str
    choices: ['skip', 'keep']
    default: skip
  vars:
    description:
      - Only hosts whose resolved variables match, in Craton's C(vars) filter syntax
        C(<path>:<json value>[,<path>:<json value>...]), for example V(role:"compute").
      - String values need their double quotes; several conditions are combined with AND.
    type: str
  validate_certs:
    description: Verify the server's TLS certificate for C(https) URLs.
    type: bool
    default: true
    env:
      - name: CRATON_VALIDATE_CERTS
  ca_cert:
    description: CA bundle to verify the server's TLS certificate with.
    type: path
    env:
      - name: OS_CACERT
  timeout:
    description: Seconds to wait for the connection and for the response.
    type: float
    default: 120
    env:
      - name: CRATON_INVENTORY_TIMEOUT
"""

EXAMPLES = r"""
# craton.yml: credentials come from CRATON_URL, OS_PROJECT_ID, OS_USERNAME and OS_PASSWORD
# (the variables `craton-dbsync bootstrap --write-rc cratonrc` writes).
plugin: openstack.craton.craton

# craton.yml: one region only, the inventory cached for ten minutes, and extra groups
# built from the resolved variables.
plugin: openstack.craton.craton
url: https://craton.example.com:7780
region_id: 3
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-inventory
cache_timeout: 600
keyed_groups:
  - key: os_family | default('unknown')
    prefix: os
compose:
  ansible_user: admin_user | default('root')

# craton.yml: only the hosts whose resolved variable "role" is "compute".
plugin: openstack.craton.craton
vars: 'role:"compute"'
"""

import hashlib
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.release import __version__ as ANSIBLE_VERSION

if tuple(int(part) for part in ANSIBLE_VERSION.split(".")[:2]) >= (2, 19):
    # Values from an inventory plugin are untrusted (never templated) by default since 2.19.
    def _data(value: Any) -> Any:
        return value
else:
    # Older releases would template them: mark them unsafe so that a variable stored in Craton
    # (which any project member may edit) cannot run Jinja lookups on the Ansible controller.
    from ansible.utils.unsafe_proxy import wrap_var as _data


def _variable_sink(inventory: Any) -> Any:
    """Where to call ``set_variable``: the inventory itself, or the data behind ansible-core's proxy.

    Since 2.19 plugins get InventoryData behind a proxy whose ``set_variable`` deep-copies and
    tags every value (type checks, origin, optional template trust). For values that come
    straight from ``json.loads`` (only dict, list, str, int, float, bool, None) and that must stay
    untrusted, that work changes nothing, yet it is two thirds of the plugin's time and nearly
    half of its memory on a large fleet (2,000 hosts: 3.6 s -> 1.2 s of CPU for
    ``ansible-inventory --graph``). Only that exact proxy is bypassed; anything else is used as is.
    """
    wrapped = getattr(inventory, "__wrapped__", None)
    if type(inventory).__name__ == "_InventoryDataWrapper" and callable(getattr(wrapped, "set_variable", None)):
        return wrapped
    return inventory


USER_AGENT = "openstack.craton-inventory/1.0"
FILTERS = ("cloud_id", "region_id", "cell_id", "label", "vars")
WARN_AT_MOST = 10  # hosts or groups named in the invalid-names warning
CREDENTIALS = (("project_id", "OS_PROJECT_ID"), ("username", "OS_USERNAME"), ("api_key", "OS_PASSWORD"))


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Populates Ansible's inventory from one ``GET /v1/ansible-inventory`` response."""

    NAME = "openstack.craton.craton"

    def verify_file(self, path: str) -> bool:
        return super().verify_file(path) and path.endswith(("craton.yml", "craton.yaml"))

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        config = self._read_config_data(path)
        unknown = sorted(str(key) for key in config if key not in self._options)
        if unknown:
            raise AnsibleParserError(
                f"{path}: unknown option(s) {', '.join(unknown)} for openstack.craton.craton; "
                f"the options are: {', '.join(sorted(self._options))}"
            )
        request = self._request()
        # The key covers the request (URL with filters, project, user), so editing the source
        # file or switching credentials never serves another configuration's cached inventory.
        cache_key = f"{self.get_cache_key(path)}_{hashlib.sha256(request.identity.encode()).hexdigest()[:12]}"

        caching = bool(self.get_option("cache"))
        data = None
        update_cache = False
        if caching and cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                update_cache = True
        elif caching:
            # --flush-cache or a refresh_inventory: fetch again and store the fresh answer.
            update_cache = True
        if data is None:
            data = request.fetch()
        if update_cache:
            self._cache[cache_key] = data
        self._populate(data)

    def _request(self) -> InventoryRequest:
        url = self.get_option("url")
        if not url:
            raise AnsibleError("openstack.craton.craton: no Craton URL; set 'url' in the source file or CRATON_URL")
        credentials = {option: self.get_option(option) for option, _ in CREDENTIALS}
        filters: dict[str, Any] = {name: self.get_option(name) for name in FILTERS}
        if self.get_option("network_devices"):
            filters["network_devices"] = "true"
        group_by = list(self.get_option("group_by") or [])
        if group_by != ["region", "cell", "label"]:
            filters["group_by"] = ",".join(group_by) or "none"
        return InventoryRequest(
            url=url,
            credentials=credentials,
            filters=filters,
            timeout=float(self.get_option("timeout")),
            ssl_context=_ssl_context(self.get_option("validate_certs"), self.get_option("ca_cert")),
        )

    def _warn_invalid(self, invalid: dict[str, Any], skip: bool) -> None:
        """One warning for every variable key Ansible does not accept as a variable name."""
        parts = []
        if invalid.get("hosts"):
            parts.append(f"hosts: {_describe_invalid(invalid['hosts'])}")
        if invalid.get("groups"):
            parts.append(f"groups: {_describe_invalid(invalid['groups'])}")
        action = (
            "skipped them (set invalid_variable_names: keep to pass them on)"
            if skip
            else "passed them on (invalid_variable_names: keep)"
        )
        self.display.warning(
            "Craton variables whose keys are not valid Ansible variable names (letters, digits and _, "
            f"not starting with a digit); the inventory plugin {action}. {' | '.join(parts)}"
        )

    def _populate(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise AnsibleParserError(f"Craton's inventory is not a JSON object but {type(data).__name__}")
        inventory = self.inventory
        variables_of = _variable_sink(inventory)
        groups = {name: group for name, group in data.items() if name != "_meta"}
        invalid_names = (data.get("_meta") or {}).get("invalid_variable_names") or {}
        skip_group_keys = (
            invalid_names.get("groups") or {} if self.get_option("invalid_variable_names") == "skip" else {}
        )
        for name, group in groups.items():
            group_name = inventory.add_group(name)
            if isinstance(group, list):  # the script format also allows a bare list of hosts
                group = {"hosts": group}
            for host in group.get("hosts") or ():
                inventory.add_host(host, group=group_name)
            for key, value in (group.get("vars") or {}).items():
                if skip_group_keys and key in skip_group_keys.get(name, ()):
                    continue
                variables_of.set_variable(group_name, key, _data(value))
        # Children after every group exists, whatever order the server sent them in.
        for name, group in groups.items():
            if isinstance(group, dict):
                for child in group.get("children") or ():
                    inventory.add_child(inventory.add_group(name), inventory.add_group(child))

        strict = self.get_option("strict")
        compose = self.get_option("compose")
        composed_groups = self.get_option("groups")
        keyed_groups = self.get_option("keyed_groups")
        meta = data.get("_meta") or {}
        hostvars = meta.get("hostvars") or {}
        invalid = meta.get("invalid_variable_names") or {}
        skip = self.get_option("invalid_variable_names") == "skip"
        if invalid:
            self._warn_invalid(invalid, skip)
        skipped_hosts = (invalid.get("hosts") or {}) if skip else {}
        for host, variables in hostvars.items():
            inventory.add_host(host)
            if host in skipped_hosts:
                variables = {k: v for k, v in variables.items() if k not in set(skipped_hosts[host])}
            variables = _data(variables)
            for key, value in variables.items():
                variables_of.set_variable(host, key, value)
            self._set_composite_vars(compose, variables, host, strict=strict)
            self._add_host_to_composed_groups(composed_groups, variables, host, strict=strict)
            self._add_host_to_keyed_groups(keyed_groups, variables, host, strict=strict)


def _describe_invalid(found: dict[str, list[str]]) -> str:
    shown = [f"{name} ({', '.join(repr(key) for key in keys)})" for name, keys in sorted(found.items())[:WARN_AT_MOST]]
    more = len(found) - WARN_AT_MOST
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _ssl_context(validate_certs: bool, ca_cert: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_cert or None)
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class InventoryRequest:
    """The one HTTP request the plugin makes, and the translation of its failures."""

    def __init__(
        self,
        url: str,
        credentials: dict[str, str | None],
        filters: dict[str, Any],
        timeout: float,
        ssl_context: ssl.SSLContext,
    ) -> None:
        root = url.strip().rstrip("/")
        if not root.endswith("/v1"):
            root += "/v1"
        query = urllib.parse.urlencode(
            {k: v for k, v in filters.items() if v is not None and v != "" and v != []}, doseq=True
        )
        self.url = f"{root}/ansible-inventory" + (f"?{query}" if query else "")
        self.credentials = credentials
        self.timeout = timeout
        self.ssl_context = ssl_context

    @property
    def identity(self) -> str:
        """What distinguishes this request's answer from another's; the API key is hashed."""
        key = hashlib.sha256((self.credentials.get("api_key") or "").encode()).hexdigest()
        return f"{self.url}|{self.credentials.get('project_id')}|{self.credentials.get('username')}|{key}"

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        for (option, _), header in zip(CREDENTIALS, ("X-Auth-Project", "X-Auth-User", "X-Auth-Token"), strict=True):
            if self.credentials.get(option):
                headers[header] = str(self.credentials[option])
        return headers

    def fetch(self) -> dict[str, Any]:
        request = urllib.request.Request(self.url, headers=self.headers(), method="GET")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self.ssl_context) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise AnsibleError(self._http_error(exc)) from None
        except urllib.error.URLError as exc:
            raise AnsibleError(f"cannot reach Craton at {self.url}: {exc.reason}") from None
        except (TimeoutError, OSError) as exc:
            raise AnsibleError(
                f"no answer from Craton at {self.url} within {self.timeout:g} s ({exc}); "
                "raise the 'timeout' option or CRATON_INVENTORY_TIMEOUT for a very large inventory"
            ) from None
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise AnsibleParserError(f"Craton's answer from {self.url} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise AnsibleParserError(f"Craton's answer from {self.url} is not a JSON object")
        return data

    def _http_error(self, exc: urllib.error.HTTPError) -> str:
        try:
            message = json.loads(exc.read()).get("message") or exc.reason
        except (ValueError, AttributeError, OSError):
            message = exc.reason
        text = f"Craton answered {exc.code} to GET {self.url}: {message}"
        if exc.code in (401, 403):
            missing = [env for option, env in CREDENTIALS if not self.credentials.get(option)]
            if missing:
                text += f" (not set: {', '.join(missing)}, or the options project_id, username, api_key)"
            else:
                text += " (check project_id, username and api_key, or OS_PROJECT_ID, OS_USERNAME, OS_PASSWORD)"
        return text
