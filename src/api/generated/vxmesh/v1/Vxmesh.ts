// Original file: proto/vxmesh.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AttachRequest as _vxmesh_v1_AttachRequest, AttachRequest__Output as _vxmesh_v1_AttachRequest__Output } from '../../vxmesh/v1/AttachRequest.js';
import type { CreateNetworkRequest as _vxmesh_v1_CreateNetworkRequest, CreateNetworkRequest__Output as _vxmesh_v1_CreateNetworkRequest__Output } from '../../vxmesh/v1/CreateNetworkRequest.js';
import type { CreateServiceRequest as _vxmesh_v1_CreateServiceRequest, CreateServiceRequest__Output as _vxmesh_v1_CreateServiceRequest__Output } from '../../vxmesh/v1/CreateServiceRequest.js';
import type { DetachRequest as _vxmesh_v1_DetachRequest, DetachRequest__Output as _vxmesh_v1_DetachRequest__Output } from '../../vxmesh/v1/DetachRequest.js';
import type { DetachResponse as _vxmesh_v1_DetachResponse, DetachResponse__Output as _vxmesh_v1_DetachResponse__Output } from '../../vxmesh/v1/DetachResponse.js';
import type { DoctorReport as _vxmesh_v1_DoctorReport, DoctorReport__Output as _vxmesh_v1_DoctorReport__Output } from '../../vxmesh/v1/DoctorReport.js';
import type { DoctorRequest as _vxmesh_v1_DoctorRequest, DoctorRequest__Output as _vxmesh_v1_DoctorRequest__Output } from '../../vxmesh/v1/DoctorRequest.js';
import type { EndpointInfo as _vxmesh_v1_EndpointInfo, EndpointInfo__Output as _vxmesh_v1_EndpointInfo__Output } from '../../vxmesh/v1/EndpointInfo.js';
import type { GossipKeyRequest as _vxmesh_v1_GossipKeyRequest, GossipKeyRequest__Output as _vxmesh_v1_GossipKeyRequest__Output } from '../../vxmesh/v1/GossipKeyRequest.js';
import type { GossipKeyResponse as _vxmesh_v1_GossipKeyResponse, GossipKeyResponse__Output as _vxmesh_v1_GossipKeyResponse__Output } from '../../vxmesh/v1/GossipKeyResponse.js';
import type { InspectNetworkRequest as _vxmesh_v1_InspectNetworkRequest, InspectNetworkRequest__Output as _vxmesh_v1_InspectNetworkRequest__Output } from '../../vxmesh/v1/InspectNetworkRequest.js';
import type { InspectServiceRequest as _vxmesh_v1_InspectServiceRequest, InspectServiceRequest__Output as _vxmesh_v1_InspectServiceRequest__Output } from '../../vxmesh/v1/InspectServiceRequest.js';
import type { ListEndpointsRequest as _vxmesh_v1_ListEndpointsRequest, ListEndpointsRequest__Output as _vxmesh_v1_ListEndpointsRequest__Output } from '../../vxmesh/v1/ListEndpointsRequest.js';
import type { ListEndpointsResponse as _vxmesh_v1_ListEndpointsResponse, ListEndpointsResponse__Output as _vxmesh_v1_ListEndpointsResponse__Output } from '../../vxmesh/v1/ListEndpointsResponse.js';
import type { ListNetworksRequest as _vxmesh_v1_ListNetworksRequest, ListNetworksRequest__Output as _vxmesh_v1_ListNetworksRequest__Output } from '../../vxmesh/v1/ListNetworksRequest.js';
import type { ListNetworksResponse as _vxmesh_v1_ListNetworksResponse, ListNetworksResponse__Output as _vxmesh_v1_ListNetworksResponse__Output } from '../../vxmesh/v1/ListNetworksResponse.js';
import type { ListNodesRequest as _vxmesh_v1_ListNodesRequest, ListNodesRequest__Output as _vxmesh_v1_ListNodesRequest__Output } from '../../vxmesh/v1/ListNodesRequest.js';
import type { ListNodesResponse as _vxmesh_v1_ListNodesResponse, ListNodesResponse__Output as _vxmesh_v1_ListNodesResponse__Output } from '../../vxmesh/v1/ListNodesResponse.js';
import type { ListServicesRequest as _vxmesh_v1_ListServicesRequest, ListServicesRequest__Output as _vxmesh_v1_ListServicesRequest__Output } from '../../vxmesh/v1/ListServicesRequest.js';
import type { ListServicesResponse as _vxmesh_v1_ListServicesResponse, ListServicesResponse__Output as _vxmesh_v1_ListServicesResponse__Output } from '../../vxmesh/v1/ListServicesResponse.js';
import type { NetworkInfo as _vxmesh_v1_NetworkInfo, NetworkInfo__Output as _vxmesh_v1_NetworkInfo__Output } from '../../vxmesh/v1/NetworkInfo.js';
import type { PoolGrant as _vxmesh_v1_PoolGrant, PoolGrant__Output as _vxmesh_v1_PoolGrant__Output } from '../../vxmesh/v1/PoolGrant.js';
import type { ReleaseAddressRequest as _vxmesh_v1_ReleaseAddressRequest, ReleaseAddressRequest__Output as _vxmesh_v1_ReleaseAddressRequest__Output } from '../../vxmesh/v1/ReleaseAddressRequest.js';
import type { ReleaseAddressResponse as _vxmesh_v1_ReleaseAddressResponse, ReleaseAddressResponse__Output as _vxmesh_v1_ReleaseAddressResponse__Output } from '../../vxmesh/v1/ReleaseAddressResponse.js';
import type { ReleasePoolRequest as _vxmesh_v1_ReleasePoolRequest, ReleasePoolRequest__Output as _vxmesh_v1_ReleasePoolRequest__Output } from '../../vxmesh/v1/ReleasePoolRequest.js';
import type { ReleasePoolResponse as _vxmesh_v1_ReleasePoolResponse, ReleasePoolResponse__Output as _vxmesh_v1_ReleasePoolResponse__Output } from '../../vxmesh/v1/ReleasePoolResponse.js';
import type { RemoveNetworkRequest as _vxmesh_v1_RemoveNetworkRequest, RemoveNetworkRequest__Output as _vxmesh_v1_RemoveNetworkRequest__Output } from '../../vxmesh/v1/RemoveNetworkRequest.js';
import type { RemoveNetworkResponse as _vxmesh_v1_RemoveNetworkResponse, RemoveNetworkResponse__Output as _vxmesh_v1_RemoveNetworkResponse__Output } from '../../vxmesh/v1/RemoveNetworkResponse.js';
import type { RemoveServiceRequest as _vxmesh_v1_RemoveServiceRequest, RemoveServiceRequest__Output as _vxmesh_v1_RemoveServiceRequest__Output } from '../../vxmesh/v1/RemoveServiceRequest.js';
import type { RemoveServiceResponse as _vxmesh_v1_RemoveServiceResponse, RemoveServiceResponse__Output as _vxmesh_v1_RemoveServiceResponse__Output } from '../../vxmesh/v1/RemoveServiceResponse.js';
import type { RequestAddressRequest as _vxmesh_v1_RequestAddressRequest, RequestAddressRequest__Output as _vxmesh_v1_RequestAddressRequest__Output } from '../../vxmesh/v1/RequestAddressRequest.js';
import type { RequestAddressResponse as _vxmesh_v1_RequestAddressResponse, RequestAddressResponse__Output as _vxmesh_v1_RequestAddressResponse__Output } from '../../vxmesh/v1/RequestAddressResponse.js';
import type { RequestPoolRequest as _vxmesh_v1_RequestPoolRequest, RequestPoolRequest__Output as _vxmesh_v1_RequestPoolRequest__Output } from '../../vxmesh/v1/RequestPoolRequest.js';
import type { ServiceInfo as _vxmesh_v1_ServiceInfo, ServiceInfo__Output as _vxmesh_v1_ServiceInfo__Output } from '../../vxmesh/v1/ServiceInfo.js';
import type { StatusInfo as _vxmesh_v1_StatusInfo, StatusInfo__Output as _vxmesh_v1_StatusInfo__Output } from '../../vxmesh/v1/StatusInfo.js';
import type { StatusRequest as _vxmesh_v1_StatusRequest, StatusRequest__Output as _vxmesh_v1_StatusRequest__Output } from '../../vxmesh/v1/StatusRequest.js';
import type { TraceInfo as _vxmesh_v1_TraceInfo, TraceInfo__Output as _vxmesh_v1_TraceInfo__Output } from '../../vxmesh/v1/TraceInfo.js';
import type { TraceRequest as _vxmesh_v1_TraceRequest, TraceRequest__Output as _vxmesh_v1_TraceRequest__Output } from '../../vxmesh/v1/TraceRequest.js';
import type { UpdateServiceRequest as _vxmesh_v1_UpdateServiceRequest, UpdateServiceRequest__Output as _vxmesh_v1_UpdateServiceRequest__Output } from '../../vxmesh/v1/UpdateServiceRequest.js';

export interface VxmeshClient extends grpc.Client {
  Attach(argument: _vxmesh_v1_AttachRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_EndpointInfo__Output>): grpc.ClientUnaryCall;
  Attach(argument: _vxmesh_v1_AttachRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_EndpointInfo__Output>): grpc.ClientUnaryCall;
  Attach(argument: _vxmesh_v1_AttachRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_EndpointInfo__Output>): grpc.ClientUnaryCall;
  Attach(argument: _vxmesh_v1_AttachRequest, callback: grpc.requestCallback<_vxmesh_v1_EndpointInfo__Output>): grpc.ClientUnaryCall;
  attach(argument: _vxmesh_v1_AttachRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_EndpointInfo__Output>): grpc.ClientUnaryCall;
  attach(argument: _vxmesh_v1_AttachRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_EndpointInfo__Output>): grpc.ClientUnaryCall;
  attach(argument: _vxmesh_v1_AttachRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_EndpointInfo__Output>): grpc.ClientUnaryCall;
  attach(argument: _vxmesh_v1_AttachRequest, callback: grpc.requestCallback<_vxmesh_v1_EndpointInfo__Output>): grpc.ClientUnaryCall;
  
  CreateNetwork(argument: _vxmesh_v1_CreateNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  CreateNetwork(argument: _vxmesh_v1_CreateNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  CreateNetwork(argument: _vxmesh_v1_CreateNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  CreateNetwork(argument: _vxmesh_v1_CreateNetworkRequest, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  createNetwork(argument: _vxmesh_v1_CreateNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  createNetwork(argument: _vxmesh_v1_CreateNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  createNetwork(argument: _vxmesh_v1_CreateNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  createNetwork(argument: _vxmesh_v1_CreateNetworkRequest, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  
  CreateService(argument: _vxmesh_v1_CreateServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  CreateService(argument: _vxmesh_v1_CreateServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  CreateService(argument: _vxmesh_v1_CreateServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  CreateService(argument: _vxmesh_v1_CreateServiceRequest, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  createService(argument: _vxmesh_v1_CreateServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  createService(argument: _vxmesh_v1_CreateServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  createService(argument: _vxmesh_v1_CreateServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  createService(argument: _vxmesh_v1_CreateServiceRequest, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  
  Detach(argument: _vxmesh_v1_DetachRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_DetachResponse__Output>): grpc.ClientUnaryCall;
  Detach(argument: _vxmesh_v1_DetachRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_DetachResponse__Output>): grpc.ClientUnaryCall;
  Detach(argument: _vxmesh_v1_DetachRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_DetachResponse__Output>): grpc.ClientUnaryCall;
  Detach(argument: _vxmesh_v1_DetachRequest, callback: grpc.requestCallback<_vxmesh_v1_DetachResponse__Output>): grpc.ClientUnaryCall;
  detach(argument: _vxmesh_v1_DetachRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_DetachResponse__Output>): grpc.ClientUnaryCall;
  detach(argument: _vxmesh_v1_DetachRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_DetachResponse__Output>): grpc.ClientUnaryCall;
  detach(argument: _vxmesh_v1_DetachRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_DetachResponse__Output>): grpc.ClientUnaryCall;
  detach(argument: _vxmesh_v1_DetachRequest, callback: grpc.requestCallback<_vxmesh_v1_DetachResponse__Output>): grpc.ClientUnaryCall;
  
  Doctor(argument: _vxmesh_v1_DoctorRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_DoctorReport__Output>): grpc.ClientUnaryCall;
  Doctor(argument: _vxmesh_v1_DoctorRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_DoctorReport__Output>): grpc.ClientUnaryCall;
  Doctor(argument: _vxmesh_v1_DoctorRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_DoctorReport__Output>): grpc.ClientUnaryCall;
  Doctor(argument: _vxmesh_v1_DoctorRequest, callback: grpc.requestCallback<_vxmesh_v1_DoctorReport__Output>): grpc.ClientUnaryCall;
  doctor(argument: _vxmesh_v1_DoctorRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_DoctorReport__Output>): grpc.ClientUnaryCall;
  doctor(argument: _vxmesh_v1_DoctorRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_DoctorReport__Output>): grpc.ClientUnaryCall;
  doctor(argument: _vxmesh_v1_DoctorRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_DoctorReport__Output>): grpc.ClientUnaryCall;
  doctor(argument: _vxmesh_v1_DoctorRequest, callback: grpc.requestCallback<_vxmesh_v1_DoctorReport__Output>): grpc.ClientUnaryCall;
  
  GossipKey(argument: _vxmesh_v1_GossipKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_GossipKeyResponse__Output>): grpc.ClientUnaryCall;
  GossipKey(argument: _vxmesh_v1_GossipKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_GossipKeyResponse__Output>): grpc.ClientUnaryCall;
  GossipKey(argument: _vxmesh_v1_GossipKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_GossipKeyResponse__Output>): grpc.ClientUnaryCall;
  GossipKey(argument: _vxmesh_v1_GossipKeyRequest, callback: grpc.requestCallback<_vxmesh_v1_GossipKeyResponse__Output>): grpc.ClientUnaryCall;
  gossipKey(argument: _vxmesh_v1_GossipKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_GossipKeyResponse__Output>): grpc.ClientUnaryCall;
  gossipKey(argument: _vxmesh_v1_GossipKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_GossipKeyResponse__Output>): grpc.ClientUnaryCall;
  gossipKey(argument: _vxmesh_v1_GossipKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_GossipKeyResponse__Output>): grpc.ClientUnaryCall;
  gossipKey(argument: _vxmesh_v1_GossipKeyRequest, callback: grpc.requestCallback<_vxmesh_v1_GossipKeyResponse__Output>): grpc.ClientUnaryCall;
  
  InspectNetwork(argument: _vxmesh_v1_InspectNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  InspectNetwork(argument: _vxmesh_v1_InspectNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  InspectNetwork(argument: _vxmesh_v1_InspectNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  InspectNetwork(argument: _vxmesh_v1_InspectNetworkRequest, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  inspectNetwork(argument: _vxmesh_v1_InspectNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  inspectNetwork(argument: _vxmesh_v1_InspectNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  inspectNetwork(argument: _vxmesh_v1_InspectNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  inspectNetwork(argument: _vxmesh_v1_InspectNetworkRequest, callback: grpc.requestCallback<_vxmesh_v1_NetworkInfo__Output>): grpc.ClientUnaryCall;
  
  InspectService(argument: _vxmesh_v1_InspectServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  InspectService(argument: _vxmesh_v1_InspectServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  InspectService(argument: _vxmesh_v1_InspectServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  InspectService(argument: _vxmesh_v1_InspectServiceRequest, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  inspectService(argument: _vxmesh_v1_InspectServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  inspectService(argument: _vxmesh_v1_InspectServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  inspectService(argument: _vxmesh_v1_InspectServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  inspectService(argument: _vxmesh_v1_InspectServiceRequest, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  
  ListEndpoints(argument: _vxmesh_v1_ListEndpointsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  ListEndpoints(argument: _vxmesh_v1_ListEndpointsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  ListEndpoints(argument: _vxmesh_v1_ListEndpointsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  ListEndpoints(argument: _vxmesh_v1_ListEndpointsRequest, callback: grpc.requestCallback<_vxmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  listEndpoints(argument: _vxmesh_v1_ListEndpointsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  listEndpoints(argument: _vxmesh_v1_ListEndpointsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  listEndpoints(argument: _vxmesh_v1_ListEndpointsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  listEndpoints(argument: _vxmesh_v1_ListEndpointsRequest, callback: grpc.requestCallback<_vxmesh_v1_ListEndpointsResponse__Output>): grpc.ClientUnaryCall;
  
  ListNetworks(argument: _vxmesh_v1_ListNetworksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  ListNetworks(argument: _vxmesh_v1_ListNetworksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  ListNetworks(argument: _vxmesh_v1_ListNetworksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  ListNetworks(argument: _vxmesh_v1_ListNetworksRequest, callback: grpc.requestCallback<_vxmesh_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  listNetworks(argument: _vxmesh_v1_ListNetworksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  listNetworks(argument: _vxmesh_v1_ListNetworksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  listNetworks(argument: _vxmesh_v1_ListNetworksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  listNetworks(argument: _vxmesh_v1_ListNetworksRequest, callback: grpc.requestCallback<_vxmesh_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  
  ListNodes(argument: _vxmesh_v1_ListNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _vxmesh_v1_ListNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _vxmesh_v1_ListNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _vxmesh_v1_ListNodesRequest, callback: grpc.requestCallback<_vxmesh_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _vxmesh_v1_ListNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _vxmesh_v1_ListNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _vxmesh_v1_ListNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _vxmesh_v1_ListNodesRequest, callback: grpc.requestCallback<_vxmesh_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  
  ListServices(argument: _vxmesh_v1_ListServicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  ListServices(argument: _vxmesh_v1_ListServicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  ListServices(argument: _vxmesh_v1_ListServicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  ListServices(argument: _vxmesh_v1_ListServicesRequest, callback: grpc.requestCallback<_vxmesh_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  listServices(argument: _vxmesh_v1_ListServicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  listServices(argument: _vxmesh_v1_ListServicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  listServices(argument: _vxmesh_v1_ListServicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  listServices(argument: _vxmesh_v1_ListServicesRequest, callback: grpc.requestCallback<_vxmesh_v1_ListServicesResponse__Output>): grpc.ClientUnaryCall;
  
  ReleaseAddress(argument: _vxmesh_v1_ReleaseAddressRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ReleaseAddressResponse__Output>): grpc.ClientUnaryCall;
  ReleaseAddress(argument: _vxmesh_v1_ReleaseAddressRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ReleaseAddressResponse__Output>): grpc.ClientUnaryCall;
  ReleaseAddress(argument: _vxmesh_v1_ReleaseAddressRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ReleaseAddressResponse__Output>): grpc.ClientUnaryCall;
  ReleaseAddress(argument: _vxmesh_v1_ReleaseAddressRequest, callback: grpc.requestCallback<_vxmesh_v1_ReleaseAddressResponse__Output>): grpc.ClientUnaryCall;
  releaseAddress(argument: _vxmesh_v1_ReleaseAddressRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ReleaseAddressResponse__Output>): grpc.ClientUnaryCall;
  releaseAddress(argument: _vxmesh_v1_ReleaseAddressRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ReleaseAddressResponse__Output>): grpc.ClientUnaryCall;
  releaseAddress(argument: _vxmesh_v1_ReleaseAddressRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ReleaseAddressResponse__Output>): grpc.ClientUnaryCall;
  releaseAddress(argument: _vxmesh_v1_ReleaseAddressRequest, callback: grpc.requestCallback<_vxmesh_v1_ReleaseAddressResponse__Output>): grpc.ClientUnaryCall;
  
  ReleasePool(argument: _vxmesh_v1_ReleasePoolRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ReleasePoolResponse__Output>): grpc.ClientUnaryCall;
  ReleasePool(argument: _vxmesh_v1_ReleasePoolRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ReleasePoolResponse__Output>): grpc.ClientUnaryCall;
  ReleasePool(argument: _vxmesh_v1_ReleasePoolRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ReleasePoolResponse__Output>): grpc.ClientUnaryCall;
  ReleasePool(argument: _vxmesh_v1_ReleasePoolRequest, callback: grpc.requestCallback<_vxmesh_v1_ReleasePoolResponse__Output>): grpc.ClientUnaryCall;
  releasePool(argument: _vxmesh_v1_ReleasePoolRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ReleasePoolResponse__Output>): grpc.ClientUnaryCall;
  releasePool(argument: _vxmesh_v1_ReleasePoolRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ReleasePoolResponse__Output>): grpc.ClientUnaryCall;
  releasePool(argument: _vxmesh_v1_ReleasePoolRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ReleasePoolResponse__Output>): grpc.ClientUnaryCall;
  releasePool(argument: _vxmesh_v1_ReleasePoolRequest, callback: grpc.requestCallback<_vxmesh_v1_ReleasePoolResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveNetwork(argument: _vxmesh_v1_RemoveNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  RemoveNetwork(argument: _vxmesh_v1_RemoveNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  RemoveNetwork(argument: _vxmesh_v1_RemoveNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  RemoveNetwork(argument: _vxmesh_v1_RemoveNetworkRequest, callback: grpc.requestCallback<_vxmesh_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  removeNetwork(argument: _vxmesh_v1_RemoveNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  removeNetwork(argument: _vxmesh_v1_RemoveNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  removeNetwork(argument: _vxmesh_v1_RemoveNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  removeNetwork(argument: _vxmesh_v1_RemoveNetworkRequest, callback: grpc.requestCallback<_vxmesh_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveService(argument: _vxmesh_v1_RemoveServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  RemoveService(argument: _vxmesh_v1_RemoveServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  RemoveService(argument: _vxmesh_v1_RemoveServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  RemoveService(argument: _vxmesh_v1_RemoveServiceRequest, callback: grpc.requestCallback<_vxmesh_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  removeService(argument: _vxmesh_v1_RemoveServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  removeService(argument: _vxmesh_v1_RemoveServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  removeService(argument: _vxmesh_v1_RemoveServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  removeService(argument: _vxmesh_v1_RemoveServiceRequest, callback: grpc.requestCallback<_vxmesh_v1_RemoveServiceResponse__Output>): grpc.ClientUnaryCall;
  
  RequestAddress(argument: _vxmesh_v1_RequestAddressRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_RequestAddressResponse__Output>): grpc.ClientUnaryCall;
  RequestAddress(argument: _vxmesh_v1_RequestAddressRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_RequestAddressResponse__Output>): grpc.ClientUnaryCall;
  RequestAddress(argument: _vxmesh_v1_RequestAddressRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_RequestAddressResponse__Output>): grpc.ClientUnaryCall;
  RequestAddress(argument: _vxmesh_v1_RequestAddressRequest, callback: grpc.requestCallback<_vxmesh_v1_RequestAddressResponse__Output>): grpc.ClientUnaryCall;
  requestAddress(argument: _vxmesh_v1_RequestAddressRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_RequestAddressResponse__Output>): grpc.ClientUnaryCall;
  requestAddress(argument: _vxmesh_v1_RequestAddressRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_RequestAddressResponse__Output>): grpc.ClientUnaryCall;
  requestAddress(argument: _vxmesh_v1_RequestAddressRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_RequestAddressResponse__Output>): grpc.ClientUnaryCall;
  requestAddress(argument: _vxmesh_v1_RequestAddressRequest, callback: grpc.requestCallback<_vxmesh_v1_RequestAddressResponse__Output>): grpc.ClientUnaryCall;
  
  RequestPool(argument: _vxmesh_v1_RequestPoolRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_PoolGrant__Output>): grpc.ClientUnaryCall;
  RequestPool(argument: _vxmesh_v1_RequestPoolRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_PoolGrant__Output>): grpc.ClientUnaryCall;
  RequestPool(argument: _vxmesh_v1_RequestPoolRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_PoolGrant__Output>): grpc.ClientUnaryCall;
  RequestPool(argument: _vxmesh_v1_RequestPoolRequest, callback: grpc.requestCallback<_vxmesh_v1_PoolGrant__Output>): grpc.ClientUnaryCall;
  requestPool(argument: _vxmesh_v1_RequestPoolRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_PoolGrant__Output>): grpc.ClientUnaryCall;
  requestPool(argument: _vxmesh_v1_RequestPoolRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_PoolGrant__Output>): grpc.ClientUnaryCall;
  requestPool(argument: _vxmesh_v1_RequestPoolRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_PoolGrant__Output>): grpc.ClientUnaryCall;
  requestPool(argument: _vxmesh_v1_RequestPoolRequest, callback: grpc.requestCallback<_vxmesh_v1_PoolGrant__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _vxmesh_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_StatusInfo__Output>): grpc.ClientUnaryCall;
  Status(argument: _vxmesh_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_StatusInfo__Output>): grpc.ClientUnaryCall;
  Status(argument: _vxmesh_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_StatusInfo__Output>): grpc.ClientUnaryCall;
  Status(argument: _vxmesh_v1_StatusRequest, callback: grpc.requestCallback<_vxmesh_v1_StatusInfo__Output>): grpc.ClientUnaryCall;
  status(argument: _vxmesh_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_StatusInfo__Output>): grpc.ClientUnaryCall;
  status(argument: _vxmesh_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_StatusInfo__Output>): grpc.ClientUnaryCall;
  status(argument: _vxmesh_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_StatusInfo__Output>): grpc.ClientUnaryCall;
  status(argument: _vxmesh_v1_StatusRequest, callback: grpc.requestCallback<_vxmesh_v1_StatusInfo__Output>): grpc.ClientUnaryCall;
  
  TraceEndpoint(argument: _vxmesh_v1_TraceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_TraceInfo__Output>): grpc.ClientUnaryCall;
  TraceEndpoint(argument: _vxmesh_v1_TraceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_TraceInfo__Output>): grpc.ClientUnaryCall;
  TraceEndpoint(argument: _vxmesh_v1_TraceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_TraceInfo__Output>): grpc.ClientUnaryCall;
  TraceEndpoint(argument: _vxmesh_v1_TraceRequest, callback: grpc.requestCallback<_vxmesh_v1_TraceInfo__Output>): grpc.ClientUnaryCall;
  traceEndpoint(argument: _vxmesh_v1_TraceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_TraceInfo__Output>): grpc.ClientUnaryCall;
  traceEndpoint(argument: _vxmesh_v1_TraceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_TraceInfo__Output>): grpc.ClientUnaryCall;
  traceEndpoint(argument: _vxmesh_v1_TraceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_TraceInfo__Output>): grpc.ClientUnaryCall;
  traceEndpoint(argument: _vxmesh_v1_TraceRequest, callback: grpc.requestCallback<_vxmesh_v1_TraceInfo__Output>): grpc.ClientUnaryCall;
  
  UpdateService(argument: _vxmesh_v1_UpdateServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  UpdateService(argument: _vxmesh_v1_UpdateServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  UpdateService(argument: _vxmesh_v1_UpdateServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  UpdateService(argument: _vxmesh_v1_UpdateServiceRequest, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  updateService(argument: _vxmesh_v1_UpdateServiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  updateService(argument: _vxmesh_v1_UpdateServiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  updateService(argument: _vxmesh_v1_UpdateServiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  updateService(argument: _vxmesh_v1_UpdateServiceRequest, callback: grpc.requestCallback<_vxmesh_v1_ServiceInfo__Output>): grpc.ClientUnaryCall;
  
}

export interface VxmeshHandlers extends grpc.UntypedServiceImplementation {
  Attach: grpc.handleUnaryCall<_vxmesh_v1_AttachRequest__Output, _vxmesh_v1_EndpointInfo>;
  
  CreateNetwork: grpc.handleUnaryCall<_vxmesh_v1_CreateNetworkRequest__Output, _vxmesh_v1_NetworkInfo>;
  
  CreateService: grpc.handleUnaryCall<_vxmesh_v1_CreateServiceRequest__Output, _vxmesh_v1_ServiceInfo>;
  
  Detach: grpc.handleUnaryCall<_vxmesh_v1_DetachRequest__Output, _vxmesh_v1_DetachResponse>;
  
  Doctor: grpc.handleUnaryCall<_vxmesh_v1_DoctorRequest__Output, _vxmesh_v1_DoctorReport>;
  
  GossipKey: grpc.handleUnaryCall<_vxmesh_v1_GossipKeyRequest__Output, _vxmesh_v1_GossipKeyResponse>;
  
  InspectNetwork: grpc.handleUnaryCall<_vxmesh_v1_InspectNetworkRequest__Output, _vxmesh_v1_NetworkInfo>;
  
  InspectService: grpc.handleUnaryCall<_vxmesh_v1_InspectServiceRequest__Output, _vxmesh_v1_ServiceInfo>;
  
  ListEndpoints: grpc.handleUnaryCall<_vxmesh_v1_ListEndpointsRequest__Output, _vxmesh_v1_ListEndpointsResponse>;
  
  ListNetworks: grpc.handleUnaryCall<_vxmesh_v1_ListNetworksRequest__Output, _vxmesh_v1_ListNetworksResponse>;
  
  ListNodes: grpc.handleUnaryCall<_vxmesh_v1_ListNodesRequest__Output, _vxmesh_v1_ListNodesResponse>;
  
  ListServices: grpc.handleUnaryCall<_vxmesh_v1_ListServicesRequest__Output, _vxmesh_v1_ListServicesResponse>;
  
  ReleaseAddress: grpc.handleUnaryCall<_vxmesh_v1_ReleaseAddressRequest__Output, _vxmesh_v1_ReleaseAddressResponse>;
  
  ReleasePool: grpc.handleUnaryCall<_vxmesh_v1_ReleasePoolRequest__Output, _vxmesh_v1_ReleasePoolResponse>;
  
  RemoveNetwork: grpc.handleUnaryCall<_vxmesh_v1_RemoveNetworkRequest__Output, _vxmesh_v1_RemoveNetworkResponse>;
  
  RemoveService: grpc.handleUnaryCall<_vxmesh_v1_RemoveServiceRequest__Output, _vxmesh_v1_RemoveServiceResponse>;
  
  RequestAddress: grpc.handleUnaryCall<_vxmesh_v1_RequestAddressRequest__Output, _vxmesh_v1_RequestAddressResponse>;
  
  RequestPool: grpc.handleUnaryCall<_vxmesh_v1_RequestPoolRequest__Output, _vxmesh_v1_PoolGrant>;
  
  Status: grpc.handleUnaryCall<_vxmesh_v1_StatusRequest__Output, _vxmesh_v1_StatusInfo>;
  
  TraceEndpoint: grpc.handleUnaryCall<_vxmesh_v1_TraceRequest__Output, _vxmesh_v1_TraceInfo>;
  
  UpdateService: grpc.handleUnaryCall<_vxmesh_v1_UpdateServiceRequest__Output, _vxmesh_v1_ServiceInfo>;
  
}

export interface VxmeshDefinition extends grpc.ServiceDefinition {
  Attach: MethodDefinition<_vxmesh_v1_AttachRequest, _vxmesh_v1_EndpointInfo, _vxmesh_v1_AttachRequest__Output, _vxmesh_v1_EndpointInfo__Output>
  CreateNetwork: MethodDefinition<_vxmesh_v1_CreateNetworkRequest, _vxmesh_v1_NetworkInfo, _vxmesh_v1_CreateNetworkRequest__Output, _vxmesh_v1_NetworkInfo__Output>
  CreateService: MethodDefinition<_vxmesh_v1_CreateServiceRequest, _vxmesh_v1_ServiceInfo, _vxmesh_v1_CreateServiceRequest__Output, _vxmesh_v1_ServiceInfo__Output>
  Detach: MethodDefinition<_vxmesh_v1_DetachRequest, _vxmesh_v1_DetachResponse, _vxmesh_v1_DetachRequest__Output, _vxmesh_v1_DetachResponse__Output>
  Doctor: MethodDefinition<_vxmesh_v1_DoctorRequest, _vxmesh_v1_DoctorReport, _vxmesh_v1_DoctorRequest__Output, _vxmesh_v1_DoctorReport__Output>
  GossipKey: MethodDefinition<_vxmesh_v1_GossipKeyRequest, _vxmesh_v1_GossipKeyResponse, _vxmesh_v1_GossipKeyRequest__Output, _vxmesh_v1_GossipKeyResponse__Output>
  InspectNetwork: MethodDefinition<_vxmesh_v1_InspectNetworkRequest, _vxmesh_v1_NetworkInfo, _vxmesh_v1_InspectNetworkRequest__Output, _vxmesh_v1_NetworkInfo__Output>
  InspectService: MethodDefinition<_vxmesh_v1_InspectServiceRequest, _vxmesh_v1_ServiceInfo, _vxmesh_v1_InspectServiceRequest__Output, _vxmesh_v1_ServiceInfo__Output>
  ListEndpoints: MethodDefinition<_vxmesh_v1_ListEndpointsRequest, _vxmesh_v1_ListEndpointsResponse, _vxmesh_v1_ListEndpointsRequest__Output, _vxmesh_v1_ListEndpointsResponse__Output>
  ListNetworks: MethodDefinition<_vxmesh_v1_ListNetworksRequest, _vxmesh_v1_ListNetworksResponse, _vxmesh_v1_ListNetworksRequest__Output, _vxmesh_v1_ListNetworksResponse__Output>
  ListNodes: MethodDefinition<_vxmesh_v1_ListNodesRequest, _vxmesh_v1_ListNodesResponse, _vxmesh_v1_ListNodesRequest__Output, _vxmesh_v1_ListNodesResponse__Output>
  ListServices: MethodDefinition<_vxmesh_v1_ListServicesRequest, _vxmesh_v1_ListServicesResponse, _vxmesh_v1_ListServicesRequest__Output, _vxmesh_v1_ListServicesResponse__Output>
  ReleaseAddress: MethodDefinition<_vxmesh_v1_ReleaseAddressRequest, _vxmesh_v1_ReleaseAddressResponse, _vxmesh_v1_ReleaseAddressRequest__Output, _vxmesh_v1_ReleaseAddressResponse__Output>
  ReleasePool: MethodDefinition<_vxmesh_v1_ReleasePoolRequest, _vxmesh_v1_ReleasePoolResponse, _vxmesh_v1_ReleasePoolRequest__Output, _vxmesh_v1_ReleasePoolResponse__Output>
  RemoveNetwork: MethodDefinition<_vxmesh_v1_RemoveNetworkRequest, _vxmesh_v1_RemoveNetworkResponse, _vxmesh_v1_RemoveNetworkRequest__Output, _vxmesh_v1_RemoveNetworkResponse__Output>
  RemoveService: MethodDefinition<_vxmesh_v1_RemoveServiceRequest, _vxmesh_v1_RemoveServiceResponse, _vxmesh_v1_RemoveServiceRequest__Output, _vxmesh_v1_RemoveServiceResponse__Output>
  RequestAddress: MethodDefinition<_vxmesh_v1_RequestAddressRequest, _vxmesh_v1_RequestAddressResponse, _vxmesh_v1_RequestAddressRequest__Output, _vxmesh_v1_RequestAddressResponse__Output>
  RequestPool: MethodDefinition<_vxmesh_v1_RequestPoolRequest, _vxmesh_v1_PoolGrant, _vxmesh_v1_RequestPoolRequest__Output, _vxmesh_v1_PoolGrant__Output>
  Status: MethodDefinition<_vxmesh_v1_StatusRequest, _vxmesh_v1_StatusInfo, _vxmesh_v1_StatusRequest__Output, _vxmesh_v1_StatusInfo__Output>
  TraceEndpoint: MethodDefinition<_vxmesh_v1_TraceRequest, _vxmesh_v1_TraceInfo, _vxmesh_v1_TraceRequest__Output, _vxmesh_v1_TraceInfo__Output>
  UpdateService: MethodDefinition<_vxmesh_v1_UpdateServiceRequest, _vxmesh_v1_ServiceInfo, _vxmesh_v1_UpdateServiceRequest__Output, _vxmesh_v1_ServiceInfo__Output>
}
