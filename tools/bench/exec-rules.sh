#!/usr/bin/env bash
# A guardrail policy of N exec rules (default 50) for the benchmark, on
# stdout: destructive commands, most for AI deploys without approver
# (halt, kill), ten for drift, so that every exec on the host, attributed
# or not, goes through the name lookups. Drift rules only alert: the
# bench must not stop anything on the host. No rule names the benchmark's
# own command (/bin/true) unless --name-true: then one does, with
# arguments the benchmark never passes, the cost of a command some rule
# names but that does not match.
#   tools/bench/exec-rules.sh [N] [--name-true]
set -euo pipefail
n=${1:-50}
name_true=${2:-}
ai=(
  'terraform destroy*' 'terraform apply -auto-approve*' 'terraform state rm *' 'terraform workspace delete *'
  'kubectl delete *' 'kubectl drain *' 'kubectl scale * --replicas=0' 'kubectl cordon *'
  'helm uninstall *' 'helm delete *' '/usr/bin/rm -r* /*' '/usr/bin/rm -f* /*' 'rm -r* /etc*'
  'nft flush ruleset' 'nft delete table *' 'iptables -F*' 'iptables -X*' 'ip6tables -F*'
  'systemctl stop *' 'systemctl disable *' 'systemctl mask *' 'dropdb *' 'psql -c DROP*'
  'mysql -e DROP*' 'redis-cli FLUSHALL' 'mkfs.ext4 *' 'mkfs.xfs *' 'dd if=* of=/dev/*'
  'shutdown *' 'reboot' 'aws s3 rm *' 'aws ec2 terminate-instances *' 'gcloud compute instances delete *'
  'az group delete *' 'docker rm -f *' 'docker system prune*' 'git push --force*' 'git push -f*'
  'ansible-playbook *destroy*' 'pulumi destroy*'
)
drift=(
  'nft flush ruleset' 'iptables -F*' 'terraform destroy*' 'kubectl delete namespace *' 'systemctl stop sshd*'
  'userdel *' 'passwd -d *' 'chattr -i *' 'setenforce 0' 'wipefs *'
)
echo "# $n exec rules (tools/bench/exec-rules.sh)"
i=0
for c in "${ai[@]}"; do
  [ "$i" -ge "$n" ] && break
  action=halt; [ $((i % 3)) -eq 2 ] && action=kill
  cond="ai and unapproved"; [ $((i % 4)) -eq 3 ] && cond="high-risk"
  echo "rule ai-$i: $cond and exec \"$c\" => $action"
  i=$((i + 1))
done
for c in "${drift[@]}"; do
  [ "$i" -ge "$n" ] && break
  if [ -n "$name_true" ] && [ "$i" -eq $((n - 1)) ]; then
    c='true --never-passed-by-the-bench*'
  fi
  echo "rule drift-$i: drift and exec \"$c\" => alert"
  i=$((i + 1))
done
