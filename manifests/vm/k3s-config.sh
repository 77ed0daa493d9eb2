#!/bin/sh
# Writes /etc/rancher/k3s/config.yaml before every k3s start (ExecStartPre of k3s.service): the
# API server's certificate must name the VM's external IP, which the cloud hands out and may change
# across a stop and start. Traefik is off (its LoadBalancer would take port 80 from the Istio
# gateway); ServiceLB stays on, and node-external-ip stays unset (the API server would advertise an
# address that is not on the host).
set -eu
# shellcheck source=/dev/null # written by cloud-init (cloud-init.yaml.tmpl)
. /etc/servebox/k3s.env

metadata() { # URL [HEADER]
  curl -fsS --retry 10 --retry-delay 1 --retry-all-errors ${2:+-H "$2"} "$1"
}

case "$SERVEBOX_CLOUD" in
  gcp)
    ip=$(metadata http://169.254.169.254/computeMetadata/v1/instance/network-interfaces/0/access-configs/0/external-ip \
      'Metadata-Flavor: Google')
    ;;
  aws)
    token=$(curl -fsS --retry 10 --retry-delay 1 --retry-all-errors -X PUT \
      -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
    ip=$(metadata http://169.254.169.254/latest/meta-data/public-ipv4 "X-aws-ec2-metadata-token: $token")
    ;;
  *)
    echo "servebox: unknown cloud '$SERVEBOX_CLOUD' in /etc/servebox/k3s.env" >&2
    exit 1
    ;;
esac
case "$ip" in
  "" | *[!0-9.]*)
    echo "servebox: the metadata server gave '$ip' as the external IP" >&2
    exit 1
    ;;
esac

mkdir -p /etc/rancher/k3s
umask 077
cat >/etc/rancher/k3s/config.yaml.new <<CONFIG
# Written by /usr/local/lib/servebox/k3s-config.sh before each k3s start.
write-kubeconfig-mode: "0600"
tls-san:
  - "$ip"
disable:
  - traefik
CONFIG
mv /etc/rancher/k3s/config.yaml.new /etc/rancher/k3s/config.yaml
