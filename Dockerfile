# vxmesh agent image: build with npm ci + node-gyp (the native addon), run on a slim Node 20 base.
#
#   docker build -t vxmesh .
#   docker build --build-arg BASE=my/node20 --build-arg BUILDER=my/node20-dev -t vxmesh .   # local bases
#
# Run it on every host (docs/ops.md says why each flag is there; prepare /run/netns once per boot):
#   mkdir -p /run/netns && (mountpoint -q /run/netns || mount --bind /run/netns /run/netns) && mount --make-shared /run/netns
#   docker run -d --name vxmesh --restart unless-stopped \
#     --network host --pid host \
#     --cap-add NET_ADMIN --cap-add SYS_ADMIN --cap-add SYS_PTRACE --security-opt apparmor=unconfined \
#     -v /run/netns:/run/netns:shared \
#     -v /run/docker/plugins:/run/docker/plugins \
#     -v /run/vxmesh:/run/vxmesh \
#     -v /var/lib/vxmesh:/var/lib/vxmesh \
#     -v /etc/vxmesh:/etc/vxmesh:ro \
#     vxmesh agent --config /etc/vxmesh/agent.json
#
# Build args:
#   BUILDER  image with Node 20, npm, python3, make and a C compiler (the build stage)
#   BASE     slim Node 20 image the agent runs on; iproute2, nftables and util-linux are added when missing
#   APP      the stage (or image) holding /opt/vxmesh; default: the build stage below. A test that cannot
#            reach npm passes an image it assembled from an already built tree.
ARG BUILDER=node:20-bookworm
ARG BASE=node:20-bookworm-slim
ARG APP=build

FROM ${BUILDER} AS build
WORKDIR /opt/vxmesh
# dependencies first (cached while only the sources change); scripts are skipped here (`prepare` needs
# the sources) and the native addon is built by its npm script (npm's own node-gyp, Node's own headers)
COPY package.json package-lock.json binding.gyp ./
COPY scripts/build-native.mjs scripts/
COPY native/ native/
RUN npm ci --no-audit --no-fund --ignore-scripts && npm run build:native
COPY tsconfig.json ./
COPY proto/ proto/
COPY src/ src/
COPY bin/ bin/
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf src native/*.c tsconfig.json build/Release/obj.target build/Release/.deps

FROM ${APP} AS app

FROM ${BASE} AS runtime
# ip/bridge (iproute2), nft (nftables), nsenter and setpriv (util-linux): the only programs src/kernel runs.
# Installed only when the base lacks them, so a base made offline with the tools already in works too.
RUN if ! (command -v ip && command -v bridge && command -v nft && command -v nsenter && command -v setpriv) >/dev/null 2>&1; then \
      apt-get update && apt-get install -y --no-install-recommends iproute2 nftables util-linux \
      && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=app /opt/vxmesh /opt/vxmesh
RUN ln -sf /opt/vxmesh/bin/vxmesh /usr/local/bin/vxmesh
ENV NODE_ENV=production
# the agent keeps no state in the image: /var/lib/vxmesh is a volume (the store, node name, keyring)
VOLUME ["/var/lib/vxmesh"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/opt/vxmesh/dist/cli/main.js"]
CMD ["agent"]
