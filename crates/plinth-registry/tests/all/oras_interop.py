"""Interop with a second OCI client, the `oras` Python package (pip install oras).

Driven by tests/oras_interop.rs against a docker-registry on 127.0.0.1:

  oras_interop.py pull HOST:PORT/REPO:TAG OUTDIR
      Pull what Plinth pushed; files land in OUTDIR under their layer titles. Prints the
      manifest as JSON on stdout.
  oras_interop.py push HOST:PORT/REPO:TAG PACKAGE SIGNATURE PLUGIN_TOML
      Push a plugin the way an ORAS user would (config = plugin.toml with Plinth's media type,
      layers = package and signature with Plinth's media types).
"""

import json
import os
import sys

import oras.client

PACKAGE = "application/vnd.plinth.package.v1.tar+gzip"
SIGNATURE = "application/vnd.plinth.signature.v1+hex"
CONFIG = "application/vnd.plinth.plugin.config.v1+toml"


def client(target):
    host = target.split("/", 1)[0]
    return oras.client.OrasClient(hostname=host, insecure=True)


def pull(target, outdir):
    c = client(target)
    manifest = c.get_manifest(target)
    c.pull(target=target, outdir=outdir)
    json.dump(manifest, sys.stdout)


def push(target, package, signature, plugin_toml):
    c = client(target)
    # oras-py names layers after the file's base name and wants paths under the working dir.
    os.chdir(os.path.dirname(os.path.abspath(package)))
    c.push(
        target=target,
        files=[
            f"{os.path.basename(package)}:{PACKAGE}",
            f"{os.path.basename(signature)}:{SIGNATURE}",
        ],
        manifest_config=f"{os.path.abspath(plugin_toml)}:{CONFIG}",
        manifest_annotations={"dev.plinth.id": "example.oras"},
        disable_path_validation=True,
        quiet=True,
    )


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"pull": pull, "push": push}[command](*args)
