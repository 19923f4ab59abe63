"""Getting a model onto a device and running it there, over the system's OpenSSH.

ssh (Target, Connection: how to reach a device) · lock (the device's deploy lock and heartbeat) · bundle,
bundle_delegate, signing (the folder a device installs: model, delegate, agent, manifest, checksums,
signature) · deploy (one device: upload, verify, self-check, atomic switch; rollback; info, run, bench) ·
converge (deploy as a configuration engine wants it) · fleet (many devices: a canary, then the rest) ·
rollout, rollout_report (fleets through Ansible).
"""
