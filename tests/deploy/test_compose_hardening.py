"""The container hardening of docker-compose.yml cannot silently disappear (ASVS 1.2.1,
1.14.5, 1.7.2): every service drops all capabilities and may not gain privileges, the
app's process roles run under distinct non-root accounts with read-only root
filesystems, only nginx is published, only the worker and clamd reach the outside, and
deploy/compose.logs.yml ships the logs of every service over TLS."""

import yaml

from tests.support.processes import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_ROLES = {"migrate", "web", "worker", "beat"}
# Images whose start scripts write into the image itself (see the comments in the file).
WRITABLE_ROOT = {"clamd", "pgbouncer"}
# Images whose start runs as root and hands the work to their own account.
ROOT_THEN_DROP = {
    "clamd": {"CHOWN", "SETGID", "SETUID"},
    "proxy": {"CHOWN", "SETGID", "SETUID", "NET_BIND_SERVICE"},
}


def networks(service: str) -> set[str]:
    return set(SERVICES[service].get("networks") or [])


def test_every_service_drops_all_capabilities_and_gains_no_privileges():
    assert set(SERVICES) >= APP_ROLES | {"postgres", "redis", "pgbouncer", "clamd", "proxy"}
    for name, service in SERVICES.items():
        assert service.get("cap_drop") == ["ALL"], name
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert set(service.get("cap_add", [])) == ROOT_THEN_DROP.get(name, set()), name
        assert not service.get("privileged") and "network_mode" not in service, name
        assert (service.get("read_only") is True) == (name not in WRITABLE_ROOT), name


def test_each_process_role_has_its_own_non_root_account():
    users = {name: SERVICES[name]["user"] for name in APP_ROLES}
    assert len(set(users.values())) == len(APP_ROLES)
    for user in users.values():
        uid, gid = user.split(":")
        assert int(uid) >= 10000 and gid == "10000"  # the group that shares /data
    for name in ("postgres", "redis"):
        assert SERVICES[name]["user"] == "999:999"
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    for user in users.values():
        assert f"--uid {user.split(':')[0]} --gid ebok" in dockerfile
    assert "chmod -R 2770 /data" in dockerfile
    assert "umask 0007" in (ROOT / "deploy/entrypoint.sh").read_text()


def test_only_nginx_is_published_and_only_the_worker_and_clamd_reach_out():
    assert COMPOSE["networks"]["backend"]["internal"] is True
    assert not COMPOSE["networks"]["egress"].get("internal")
    for name, service in SERVICES.items():
        assert ("ports" in service) == (name == "proxy"), name
        assert ("edge" in networks(name)) == (name == "proxy"), name
        assert ("egress" in networks(name)) == (name in {"worker", "clamd"}), name


def test_the_log_option_ships_every_service_over_tls():
    logs = yaml.safe_load((ROOT / "deploy/compose.logs.yml").read_text())
    assert set(logs["services"]) == set(SERVICES)
    for name, service in logs["services"].items():
        logging = service["logging"]
        assert logging["driver"] == "syslog", name
        assert logging["options"]["syslog-address"].startswith("${LOG_SYSLOG_ADDRESS:?"), name
        assert "syslog-tls-ca-cert" in logging["options"], name
    assert "tcp+tls://" in (ROOT / "deploy/env.example").read_text()


def test_the_image_leaves_out_tests_benchmarks_docs_scripts_and_private_keys():
    ignored = (ROOT / "deploy/Dockerfile.dockerignore").read_text().split()
    left_out = {"tests", "bench", "docs", ".ci", "bin", ".env"}
    assert left_out | {"deploy/certs", "deploy/backend-certs"} <= set(ignored)


def test_every_image_names_a_tag_and_none_is_latest():
    # "latest" (or no tag, which means it) pulls whatever was pushed last: not repeatable.
    for name, service in SERVICES.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, (name, image)
        assert tag and tag != "latest", (name, image)
