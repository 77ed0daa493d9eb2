#!/bin/sh
# Run over SSH by `pulumi up` (components/cluster/vm.py): waits for cloud-init, then for the
# Kubernetes API, then prints the admin kubeconfig (the program keeps it as a secret and never logs
# it). cloud-init exits 2 for "done, with recoverable errors", which is done too.
set -u
status=0
cloud-init status --wait >/dev/null || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
  echo "servebox: cloud-init failed (exit $status); the end of /var/log/cloud-init-output.log:" >&2
  sudo tail -n 40 /var/log/cloud-init-output.log >&2
  exit 1
fi
if ! timeout 300 sh -c 'until sudo k3s kubectl get --raw=/readyz >/dev/null 2>&1; do sleep 2; done'; then
  echo "servebox: the Kubernetes API did not answer within 300 s; see: sudo journalctl -u k3s" >&2
  exit 1
fi
sudo cat /etc/rancher/k3s/k3s.yaml
