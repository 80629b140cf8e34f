#!/usr/bin/env bash
# Make Fashion-MNIST available to the default config, in this order:
#   1. already present at the configured path (/usr/share/datasets/fashion-mnist);
#   2. the Debian package dataset-fashion-mnist, when apt is available as root;
#   3. torchvision's download into local/fashion-mnist (local/data.yaml then points there);
#   4. otherwise explain how to provide the files and where to configure their path.
set -euo pipefail
PY=${1:-python3}
DEBIAN_DIR=/usr/share/datasets/fashion-mnist
FILES="train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz"
mkdir -p local

have_all() { for f in $FILES; do [ -s "$1/$f" ] || return 1; done; }

if have_all "$DEBIAN_DIR"; then
  echo "Fashion-MNIST: found in $DEBIAN_DIR"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Fashion-MNIST: installing the Debian package dataset-fashion-mnist"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }
  have_all "$DEBIAN_DIR" || { echo "dataset-fashion-mnist installed but $DEBIAN_DIR is incomplete" >&2; exit 1; }
elif "$PY" -c "import torchvision" >/dev/null 2>&1; then
  echo "Fashion-MNIST: downloading with torchvision into local/fashion-mnist"
  "$PY" -m pointwise.data.download fashion_mnist local/fashion-mnist
  cat > local/data.yaml <<YAML
# Written by scripts/install-fashion-mnist.sh: Fashion-MNIST was downloaded here.
datasets:
  fmnist:
    source: fashion_mnist
    path: $(pwd)/local/fashion-mnist
YAML
else
  cat >&2 <<MSG
Fashion-MNIST is not available and cannot be installed automatically here.
Provide the four IDX files ($FILES) in a directory and point the config at it, e.g. in local/data.yaml:
  datasets:
    fmnist:
      source: fashion_mnist
      path: /path/to/fashion-mnist
(or install the Debian package dataset-fashion-mnist as root, or pip install torchvision).
The test suite runs without it (tests that read the real files are skipped).
MSG
  exit 0
fi
touch local/.fashion-mnist
