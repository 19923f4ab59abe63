"""Getting a model onto a device and running it there, over the system's OpenSSH.

From the bottom up — each module imports only those above it in this list:
ssh (Target, Connection: how to reach a device) · lock (the device's deploy lock and heartbeat) ·
bundle, bundle_delegate, signing (the folder a device installs: model, delegate, agent, manifest, checksums,
signature) · device (one device and where edgelift lives on it: scripts, the agent, state, failures) ·
install_runtime · deploy (upload, verify, self-check, atomic switch; rollback) · commands (info, run, bench on a
device) · converge (deploy as a configuration engine wants it) · fleet (many devices: a canary, then the
rest, each through deploy) · rollout, rollout_report (fleets through Ansible) · api (the public functions; a host
string becomes a Connection there). So fleet calls deploy, never the reverse
(tests/deploy/test_import_direction.py checks it).
"""
