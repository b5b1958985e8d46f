// gRPC server: adapts the Vxmesh service onto an AgentApi, validating every request at the edge.
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { VxError } from '../errors.js';
import type { AgentApi, ServicesApi } from '../model/api.js';
import { errorCodeToGrpc } from './errors.js';
import type { VxmeshHandlers } from './generated/vxmesh/v1/Vxmesh.js';
import { loadVxmeshProto } from './proto.js';
import { prepareSocketPath, removeSocket, restrictSocket } from '../util/unix-socket.js';
import {
  validateAttach,
  validateCreateNetwork,
  validateCreateService,
  validateDetach,
  validateGossipKey,
  validateListEndpoints,
  validateNetworkRef,
  validatePoolId,
  validateReleaseAddress,
  validateRequestAddress,
  validateRequestPool,
  validateServiceRef,
  validateUpdateService,
} from './validate.js';

export type ApiLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface ApiServer {
  close(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 2_000;

function toServiceError(error: unknown, method: string, logger: ApiLogger): Partial<grpc.ServiceError> {
  if (error instanceof VxError) {
    logger.debug({ method, code: error.code, err: error.message }, 'api request failed');
    return { code: errorCodeToGrpc(error.code), details: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  logger.error({ method, err: error }, 'api request failed unexpectedly');
  return { code: grpc.status.INTERNAL, details: message || 'internal error' };
}

/**
 * One RPC: validate and run `handler`, answer its result or the error. Typed by the generated service
 * (src/api/generated), so a model type that no longer fits its proto message fails to compile.
 */
function unary<Req, Res>(method: string, handler: (request: Req) => Promise<Res>, logger: ApiLogger): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    // Through an async function, so a validation error thrown synchronously is answered too.
    (async () => handler(call.request))().then(
      (response) => callback(null, response),
      (error: unknown) => callback(toServiceError(error, method, logger)),
    );
  };
}

function handlers(api: AgentApi & ServicesApi, logger: ApiLogger): VxmeshHandlers {
  return {
    Status: unary('Status', () => api.status(), logger),
    CreateNetwork: unary('CreateNetwork', (request) => api.createNetwork(validateCreateNetwork(request)), logger),
    ListNetworks: unary('ListNetworks', async () => ({ networks: await api.listNetworks() }), logger),
    InspectNetwork: unary('InspectNetwork', (request) => api.inspectNetwork(validateNetworkRef(request)), logger),
    RemoveNetwork: unary('RemoveNetwork', async (request) => {
      await api.removeNetwork(validateNetworkRef(request));
      return {};
    }, logger),
    Attach: unary('Attach', (request) => api.attach(validateAttach(request)), logger),
    Detach: unary('Detach', async (request) => {
      await api.detach(validateDetach(request));
      return {};
    }, logger),
    ListEndpoints: unary('ListEndpoints', async (request) => ({ endpoints: await api.listEndpoints(validateListEndpoints(request)) }), logger),
    RequestPool: unary('RequestPool', (request) => api.requestPool(validateRequestPool(request)), logger),
    ReleasePool: unary('ReleasePool', async (request) => {
      await api.releasePool(validatePoolId(request));
      return {};
    }, logger),
    RequestAddress: unary('RequestAddress', async (request) => {
      const { poolId, address, purpose } = validateRequestAddress(request);
      return { address: await api.requestAddress(poolId, address, purpose) };
    }, logger),
    ReleaseAddress: unary('ReleaseAddress', async (request) => {
      const { poolId, address } = validateReleaseAddress(request);
      await api.releaseAddress(poolId, address);
      return {};
    }, logger),
    ListNodes: unary('ListNodes', async () => ({ nodes: await api.listNodes() }), logger),
    GossipKey: unary('GossipKey', async (request) => {
      const { op, key } = validateGossipKey(request);
      return api.gossipKey(op, key);
    }, logger),
    Doctor: unary('Doctor', () => api.doctor(), logger),
    TraceEndpoint: unary('TraceEndpoint', (request) => api.traceEndpoint({ endpoint: String(request.endpoint ?? ''), to: String(request.to ?? '') }), logger),
    CreateService: unary('CreateService', (request) => api.createService(validateCreateService(request)), logger),
    ListServices: unary('ListServices', async () => ({ services: await api.listServices() }), logger),
    InspectService: unary('InspectService', (request) => api.inspectService(validateServiceRef(request)), logger),
    UpdateService: unary('UpdateService', (request) => api.updateService(validateUpdateService(request)), logger),
    RemoveService: unary('RemoveService', async (request) => {
      await api.removeService(validateServiceRef(request));
      return {};
    }, logger),
  };
}

function bind(server: grpc.Server, address: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error) => {
      if (error) reject(error);
      else resolvePromise();
    });
  });
}

/** Serves `api` (the agent's surface and its services) on `unix:<socketPath>` (mode 0600). */
export async function startApiServer(api: AgentApi & ServicesApi, socketPath: string, logger: ApiLogger): Promise<ApiServer> {
  const absolutePath = resolve(socketPath);
  const { service } = loadVxmeshProto();
  const server = new grpc.Server();
  server.addService(service, handlers(api, logger));

  await prepareSocketPath(absolutePath);
  try {
    await bind(server, `unix:${absolutePath}`);
    await restrictSocket(absolutePath);
  } catch (error) {
    server.forceShutdown();
    throw new VxError(
      'FAILED_PRECONDITION',
      `cannot listen on ${absolutePath}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  logger.info({ socket: absolutePath }, 'api listening');

  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        await new Promise<void>((done) => {
          const timer = setTimeout(() => {
            server.forceShutdown();
            done();
          }, SHUTDOWN_GRACE_MS);
          server.tryShutdown(() => {
            clearTimeout(timer);
            done();
          });
        });
        await removeSocket(absolutePath);
        logger.info({ socket: absolutePath }, 'api closed');
      })();
      return closing;
    },
  };
}
