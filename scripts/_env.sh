# Shared by scripts/*.sh: a project venv installed from pyproject.toml, re-installed only when it changes.
ensure_venv() {
  local extra="${1:-}" spec="." stamp
  [ -n "$extra" ] && spec=".[$extra]"
  if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv; then
      # Debian ships venv's pip bootstrap separately
      rm -rf .venv
      apt_install "python3-venv"
      python3 -m venv .venv
    fi
  fi
  stamp=".venv/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)-${extra:-base}"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e "$spec"
    touch "$stamp"
  fi
}

apt_install() {
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing Debian package(s) $*" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_java() {
  # PySpark (the spark engine and its tests) runs on a JVM: Java 17
  command -v java >/dev/null 2>&1 && return 0
  apt_install openjdk-17-jre-headless
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  apt_install chromium
}
