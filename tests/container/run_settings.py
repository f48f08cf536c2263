"""How tests/container runs the image: its name and the security settings a
user relies on. container_test.py runs with exactly these; tests/deploy checks
that deploy/docker-compose.yml and the kustomize Deployment use the same, so
what is deployed is what was tested."""

# `docker/podman build -t dashscope-exporter:local`; podman stores it as
# localhost/dashscope-exporter:local. Compose and the kustomize base name it so.
IMAGE = "dashscope-exporter:local"
PODMAN_IMAGE = "localhost/" + IMAGE

# The image's USER; Kubernetes' runAsUser/runAsGroup must match it.
UID = 65532
GID = 65532

# Read-only root file system, no capabilities, no privilege gain: compose's
# read_only / cap_drop / security_opt, Kubernetes' readOnlyRootFilesystem /
# capabilities.drop / allowPrivilegeEscalation.
RUN_FLAGS = ["--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges"]

# Kubernetes probes; the image's HEALTHCHECK asks the liveness path.
LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"

# What this sandbox needs (issue 11): crun's cgroup setup and rlimits above the
# hard limit are refused, so runc, cgroupfs and explicit ulimits; the build
# stage's apt-get and the container's polls of the host's mock use the host
# network.
PODMAN_GLOBAL = ["--runtime", "runc", "--cgroup-manager", "cgroupfs"]
PODMAN_LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
PODMAN_NETWORK = ["--network=host"]
# No systemd here: podman 4.3 cannot add its periodic health timers and logs
# this for every container of an image with a HEALTHCHECK (even with
# --health-cmd=none). The check itself stays; `podman healthcheck run` runs it.
PODMAN_NO_SYSTEMD_NOISE = (r'^time="[^"]*" level=error msg="(Removing timer for container [0-9a-f]+ healthcheck: )?'
                           r'unable to get systemd connection to (add|start|remove) healthchecks: .*"$')


# The image must stay small (deploy/README.md records what it is made of).
MAX_IMAGE_BYTES = 110 * 1000 * 1000
