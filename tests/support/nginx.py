"""nginx with the deployment's deploy/nginx.conf and deploy/nginx-tls.conf as they are,
with only the machine-specific parts replaced (domain, ports, certificate paths,
upstream), a wildcard certificate from a test CA and that CA's OCSP responder."""

import re
import subprocess
from contextlib import contextmanager
from pathlib import Path

from tests.support.processes import ROOT, free_port, running
from tests.support.tls import Authority, OCSPResponder, wait_for_port

NGINX = "/usr/sbin/nginx"
DOMAIN = "ebok.test"


def nginx_version() -> tuple[int, ...]:
    out = subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr
    return tuple(int(part) for part in re.search(r"nginx/([\d.]+)", out)[1].split("."))


def adapted(text: str, folder: Path, ports: dict[str, int]) -> str:
    """The deployment's configuration with this machine's ports, paths and domain."""
    text = text.replace("${BASE_DOMAIN}", DOMAIN)
    text = text.replace("/etc/nginx/certs/", f"{folder}/certs/")
    text = text.replace("include /etc/nginx/tls.conf;", f"include {folder}/tls.conf;")
    text = text.replace("server web:8000;", f"server 127.0.0.1:{ports['upstream']};")
    text = re.sub(r"listen 80\b", f"listen 127.0.0.1:{ports['http']}", text)
    text = re.sub(r"listen 443\b", f"listen 127.0.0.1:{ports['https']}", text)
    text = re.sub(r"^\s*listen \[::\].*\n", "", text, flags=re.M)
    if nginx_version() < (1, 25, 1):
        # Debian's nginx predates the "http2" directive (the image's 1.27 has it).
        text = text.replace("http2 on;", "")
    return text


@contextmanager
def nginx_proxy(folder: Path, upstream_port: int, log_name: str = "nginx-tls"):
    """nginx in front of 127.0.0.1:upstream_port; yields its ports ("https", "http"),
    the CA that signed its certificate, the OCSP responder and its command line."""
    authority = Authority.create(folder / "certs", "e-BOK test web CA")
    with OCSPResponder(authority) as responder:
        cert, key = authority.issue("web", [DOMAIN, f"*.{DOMAIN}"], ocsp_url=responder.url)
        (folder / "certs" / "fullchain.pem").write_bytes(cert.read_bytes())
        (folder / "certs" / "privkey.pem").write_bytes(key.read_bytes())
        (folder / "certs" / "chain.pem").write_bytes(authority.ca_file.read_bytes())
        ports = {"upstream": upstream_port, "http": free_port(), "https": free_port()}
        for name in ("nginx.conf", "nginx-tls.conf"):
            text = adapted((ROOT / "deploy" / name).read_text(), folder, ports)
            (folder / name.replace("nginx-", "")).write_text(text)
        main = folder / "main.conf"
        main.write_text(
            f"daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
            f"error_log {folder}/error.log info;\nevents {{ worker_connections 64; }}\n"
            f"http {{\n  access_log off;\n  client_body_temp_path {folder}/body;\n"
            f"  proxy_temp_path {folder}/proxy;\n  fastcgi_temp_path {folder}/fastcgi;\n"
            f"  uwsgi_temp_path {folder}/uwsgi;\n  scgi_temp_path {folder}/scgi;\n"
            f"  include {folder}/nginx.conf;\n}}\n"
        )
        command = [NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(main)]
        with running(command, env={}, log_name=log_name) as process:
            wait_for_port(ports["https"], process, log_name)
            yield {
                "port": ports["https"],
                "http_port": ports["http"],
                "authority": authority,
                "responder": responder,
                "command": command,
            }
