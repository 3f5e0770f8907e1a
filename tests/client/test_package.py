"""The distribution stands alone: light dependencies, a literal version, a pinned surface."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import cratonclient

CLIENT = Path(__file__).resolve().parents[2] / "client"
PYPROJECT = tomllib.loads((CLIENT / "pyproject.toml").read_text(encoding="utf-8"))


def test_distribution_metadata():
    project = PYPROJECT["project"]
    assert project["name"] == "python-cratonclient"
    assert project["requires-python"] == ">=3.11"
    assert PYPROJECT["project"]["scripts"]["craton"] == "cratonclient.shell.main:main"
    assert project["optional-dependencies"]["keystone"] == ["keystoneauth1>=5.0"]


def test_dependencies_are_few_and_only_lower_bounded():
    names = set()
    for requirement in PYPROJECT["project"]["dependencies"]:
        name, spec = re.match(r"^([A-Za-z0-9_.-]+)(.*)$", requirement).groups()
        names.add(name.lower())
        assert spec.startswith(">=") and "," not in spec and "<" not in spec, requirement
    assert names <= {"requests", "urllib3", "prettytable", "pyyaml"}
    assert not any(n.startswith(("craton", "sqlalchemy", "starlette", "keystone")) for n in names)


def test_version_is_a_literal_not_git_metadata():
    tree = ast.parse((CLIENT / "src/cratonclient/__init__.py").read_text(encoding="utf-8"))
    versions = [
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and any(getattr(t, "id", None) == "__version__" for t in node.targets)
    ]
    assert versions == [cratonclient.__version__]
    assert re.fullmatch(r"\d+\.\d+\.\d+", cratonclient.__version__)
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "cratonclient.__version__"}
    assert "pbr" not in (CLIENT / "pyproject.toml").read_text(encoding="utf-8")


def test_installed_version_matches():
    assert importlib.metadata.version("python-cratonclient") == cratonclient.__version__


def test_importing_the_library_pulls_in_no_server_and_no_keystone():
    code = (
        "import sys, cratonclient.v1.client, cratonclient.auth, cratonclient.exceptions\n"
        "bad = [m for m in sys.modules if m == 'craton' or m.startswith(('craton.', "
        "'keystoneauth1', 'sqlalchemy', 'starlette'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "module,names",
    [
        ("cratonclient.auth", ["craton_auth", "keystone_auth", "create_session_with", "CratonAuth"]),
        ("cratonclient.session", ["Session"]),
        ("cratonclient.crud", ["CRUDClient", "Resource"]),
        ("cratonclient.v1.client", ["Client"]),
        (
            "cratonclient.v1.variables",
            [
                "VariableManager",
                "Variables",
                "Variable",
                "BlamedVariables",
                "Blame",
                "Source",
                "Override",
                "VariablesDiff",
                "ValueChange",
                "parse_blame",
            ],
        ),
        ("cratonclient.v1.history", ["Change", "ChangeManager", "ChangePage", "HistoryMixin"]),
        ("cratonclient.v1.inventory", ["AnsibleInventoryManager", "Inventory"]),
        ("cratonclient.v1.clouds", ["CloudManager", "Cloud"]),
        ("cratonclient.v1.regions", ["RegionManager", "Region"]),
        ("cratonclient.v1.cells", ["CellManager", "Cell"]),
        ("cratonclient.v1.hosts", ["HostManager", "Host"]),
        ("cratonclient.v1.network_devices", ["NetworkDeviceManager", "NetworkDevice"]),
        ("cratonclient.v1.networks", ["NetworkManager", "Network"]),
        ("cratonclient.v1.network_interfaces", ["NetworkInterfaceManager", "NetworkInterface"]),
        ("cratonclient.v1.devices", ["DeviceManager", "Device"]),
        ("cratonclient.v1.projects", ["ProjectManager", "Project"]),
        ("cratonclient.v1.users", ["UserManager", "User"]),
    ],
)
def test_public_names(module, names):
    imported = importlib.import_module(module)
    for name in names:
        assert name in imported.__all__ and hasattr(imported, name), (module, name)


def test_keystone_auth_explains_the_missing_extra():
    # Block keystoneauth1 as if it were not installed (None in sys.modules makes imports fail).
    code = (
        "import sys\n"
        "sys.modules['keystoneauth1'] = None\n"
        "from cratonclient import auth\n"
        "try:\n"
        "    auth.keystone_auth(auth_url='http://k/v3', username='u', password='p')\n"
        "except ImportError as error:\n"
        "    assert 'python-cratonclient[keystone]' in str(error), error\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n"
        "s = auth.craton_auth(username='u', token='t', project_id='p')\n"
        "assert s.auth.get_headers()['X-Auth-Token'] == 't'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
