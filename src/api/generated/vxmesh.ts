import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AttachRequest as _vxmesh_v1_AttachRequest, AttachRequest__Output as _vxmesh_v1_AttachRequest__Output } from './vxmesh/v1/AttachRequest.js';
import type { CreateNetworkRequest as _vxmesh_v1_CreateNetworkRequest, CreateNetworkRequest__Output as _vxmesh_v1_CreateNetworkRequest__Output } from './vxmesh/v1/CreateNetworkRequest.js';
import type { CreateServiceRequest as _vxmesh_v1_CreateServiceRequest, CreateServiceRequest__Output as _vxmesh_v1_CreateServiceRequest__Output } from './vxmesh/v1/CreateServiceRequest.js';
import type { DetachRequest as _vxmesh_v1_DetachRequest, DetachRequest__Output as _vxmesh_v1_DetachRequest__Output } from './vxmesh/v1/DetachRequest.js';
import type { DetachResponse as _vxmesh_v1_DetachResponse, DetachResponse__Output as _vxmesh_v1_DetachResponse__Output } from './vxmesh/v1/DetachResponse.js';
import type { DoctorCheckResult as _vxmesh_v1_DoctorCheckResult, DoctorCheckResult__Output as _vxmesh_v1_DoctorCheckResult__Output } from './vxmesh/v1/DoctorCheckResult.js';
import type { DoctorReport as _vxmesh_v1_DoctorReport, DoctorReport__Output as _vxmesh_v1_DoctorReport__Output } from './vxmesh/v1/DoctorReport.js';
import type { DoctorRequest as _vxmesh_v1_DoctorRequest, DoctorRequest__Output as _vxmesh_v1_DoctorRequest__Output } from './vxmesh/v1/DoctorRequest.js';
import type { EndpointInfo as _vxmesh_v1_EndpointInfo, EndpointInfo__Output as _vxmesh_v1_EndpointInfo__Output } from './vxmesh/v1/EndpointInfo.js';
import type { FeatureProbe as _vxmesh_v1_FeatureProbe, FeatureProbe__Output as _vxmesh_v1_FeatureProbe__Output } from './vxmesh/v1/FeatureProbe.js';
import type { GossipKeyFailure as _vxmesh_v1_GossipKeyFailure, GossipKeyFailure__Output as _vxmesh_v1_GossipKeyFailure__Output } from './vxmesh/v1/GossipKeyFailure.js';
import type { GossipKeyRequest as _vxmesh_v1_GossipKeyRequest, GossipKeyRequest__Output as _vxmesh_v1_GossipKeyRequest__Output } from './vxmesh/v1/GossipKeyRequest.js';
import type { GossipKeyResponse as _vxmesh_v1_GossipKeyResponse, GossipKeyResponse__Output as _vxmesh_v1_GossipKeyResponse__Output } from './vxmesh/v1/GossipKeyResponse.js';
import type { GossipNode as _vxmesh_v1_GossipNode, GossipNode__Output as _vxmesh_v1_GossipNode__Output } from './vxmesh/v1/GossipNode.js';
import type { GossipStatus as _vxmesh_v1_GossipStatus, GossipStatus__Output as _vxmesh_v1_GossipStatus__Output } from './vxmesh/v1/GossipStatus.js';
import type { InspectNetworkRequest as _vxmesh_v1_InspectNetworkRequest, InspectNetworkRequest__Output as _vxmesh_v1_InspectNetworkRequest__Output } from './vxmesh/v1/InspectNetworkRequest.js';
import type { InspectServiceRequest as _vxmesh_v1_InspectServiceRequest, InspectServiceRequest__Output as _vxmesh_v1_InspectServiceRequest__Output } from './vxmesh/v1/InspectServiceRequest.js';
import type { ListEndpointsRequest as _vxmesh_v1_ListEndpointsRequest, ListEndpointsRequest__Output as _vxmesh_v1_ListEndpointsRequest__Output } from './vxmesh/v1/ListEndpointsRequest.js';
import type { ListEndpointsResponse as _vxmesh_v1_ListEndpointsResponse, ListEndpointsResponse__Output as _vxmesh_v1_ListEndpointsResponse__Output } from './vxmesh/v1/ListEndpointsResponse.js';
import type { ListNetworksRequest as _vxmesh_v1_ListNetworksRequest, ListNetworksRequest__Output as _vxmesh_v1_ListNetworksRequest__Output } from './vxmesh/v1/ListNetworksRequest.js';
import type { ListNetworksResponse as _vxmesh_v1_ListNetworksResponse, ListNetworksResponse__Output as _vxmesh_v1_ListNetworksResponse__Output } from './vxmesh/v1/ListNetworksResponse.js';
import type { ListNodesRequest as _vxmesh_v1_ListNodesRequest, ListNodesRequest__Output as _vxmesh_v1_ListNodesRequest__Output } from './vxmesh/v1/ListNodesRequest.js';
import type { ListNodesResponse as _vxmesh_v1_ListNodesResponse, ListNodesResponse__Output as _vxmesh_v1_ListNodesResponse__Output } from './vxmesh/v1/ListNodesResponse.js';
import type { ListServicesRequest as _vxmesh_v1_ListServicesRequest, ListServicesRequest__Output as _vxmesh_v1_ListServicesRequest__Output } from './vxmesh/v1/ListServicesRequest.js';
import type { ListServicesResponse as _vxmesh_v1_ListServicesResponse, ListServicesResponse__Output as _vxmesh_v1_ListServicesResponse__Output } from './vxmesh/v1/ListServicesResponse.js';
import type { NetworkInfo as _vxmesh_v1_NetworkInfo, NetworkInfo__Output as _vxmesh_v1_NetworkInfo__Output } from './vxmesh/v1/NetworkInfo.js';
import type { PoolGrant as _vxmesh_v1_PoolGrant, PoolGrant__Output as _vxmesh_v1_PoolGrant__Output } from './vxmesh/v1/PoolGrant.js';
import type { PublishSpec as _vxmesh_v1_PublishSpec, PublishSpec__Output as _vxmesh_v1_PublishSpec__Output } from './vxmesh/v1/PublishSpec.js';
import type { ReleaseAddressRequest as _vxmesh_v1_ReleaseAddressRequest, ReleaseAddressRequest__Output as _vxmesh_v1_ReleaseAddressRequest__Output } from './vxmesh/v1/ReleaseAddressRequest.js';
import type { ReleaseAddressResponse as _vxmesh_v1_ReleaseAddressResponse, ReleaseAddressResponse__Output as _vxmesh_v1_ReleaseAddressResponse__Output } from './vxmesh/v1/ReleaseAddressResponse.js';
import type { ReleasePoolRequest as _vxmesh_v1_ReleasePoolRequest, ReleasePoolRequest__Output as _vxmesh_v1_ReleasePoolRequest__Output } from './vxmesh/v1/ReleasePoolRequest.js';
import type { ReleasePoolResponse as _vxmesh_v1_ReleasePoolResponse, ReleasePoolResponse__Output as _vxmesh_v1_ReleasePoolResponse__Output } from './vxmesh/v1/ReleasePoolResponse.js';
import type { RemoveNetworkRequest as _vxmesh_v1_RemoveNetworkRequest, RemoveNetworkRequest__Output as _vxmesh_v1_RemoveNetworkRequest__Output } from './vxmesh/v1/RemoveNetworkRequest.js';
import type { RemoveNetworkResponse as _vxmesh_v1_RemoveNetworkResponse, RemoveNetworkResponse__Output as _vxmesh_v1_RemoveNetworkResponse__Output } from './vxmesh/v1/RemoveNetworkResponse.js';
import type { RemoveServiceRequest as _vxmesh_v1_RemoveServiceRequest, RemoveServiceRequest__Output as _vxmesh_v1_RemoveServiceRequest__Output } from './vxmesh/v1/RemoveServiceRequest.js';
import type { RemoveServiceResponse as _vxmesh_v1_RemoveServiceResponse, RemoveServiceResponse__Output as _vxmesh_v1_RemoveServiceResponse__Output } from './vxmesh/v1/RemoveServiceResponse.js';
import type { RequestAddressRequest as _vxmesh_v1_RequestAddressRequest, RequestAddressRequest__Output as _vxmesh_v1_RequestAddressRequest__Output } from './vxmesh/v1/RequestAddressRequest.js';
import type { RequestAddressResponse as _vxmesh_v1_RequestAddressResponse, RequestAddressResponse__Output as _vxmesh_v1_RequestAddressResponse__Output } from './vxmesh/v1/RequestAddressResponse.js';
import type { RequestPoolRequest as _vxmesh_v1_RequestPoolRequest, RequestPoolRequest__Output as _vxmesh_v1_RequestPoolRequest__Output } from './vxmesh/v1/RequestPoolRequest.js';
import type { ServiceInfo as _vxmesh_v1_ServiceInfo, ServiceInfo__Output as _vxmesh_v1_ServiceInfo__Output } from './vxmesh/v1/ServiceInfo.js';
import type { ServicePortInfo as _vxmesh_v1_ServicePortInfo, ServicePortInfo__Output as _vxmesh_v1_ServicePortInfo__Output } from './vxmesh/v1/ServicePortInfo.js';
import type { ServiceTaskInfo as _vxmesh_v1_ServiceTaskInfo, ServiceTaskInfo__Output as _vxmesh_v1_ServiceTaskInfo__Output } from './vxmesh/v1/ServiceTaskInfo.js';
import type { ServiceVipInfo as _vxmesh_v1_ServiceVipInfo, ServiceVipInfo__Output as _vxmesh_v1_ServiceVipInfo__Output } from './vxmesh/v1/ServiceVipInfo.js';
import type { StatusInfo as _vxmesh_v1_StatusInfo, StatusInfo__Output as _vxmesh_v1_StatusInfo__Output } from './vxmesh/v1/StatusInfo.js';
import type { StatusRequest as _vxmesh_v1_StatusRequest, StatusRequest__Output as _vxmesh_v1_StatusRequest__Output } from './vxmesh/v1/StatusRequest.js';
import type { StoreStatus as _vxmesh_v1_StoreStatus, StoreStatus__Output as _vxmesh_v1_StoreStatus__Output } from './vxmesh/v1/StoreStatus.js';
import type { SubnetInfo as _vxmesh_v1_SubnetInfo, SubnetInfo__Output as _vxmesh_v1_SubnetInfo__Output } from './vxmesh/v1/SubnetInfo.js';
import type { TraceHop as _vxmesh_v1_TraceHop, TraceHop__Output as _vxmesh_v1_TraceHop__Output } from './vxmesh/v1/TraceHop.js';
import type { TraceInfo as _vxmesh_v1_TraceInfo, TraceInfo__Output as _vxmesh_v1_TraceInfo__Output } from './vxmesh/v1/TraceInfo.js';
import type { TraceRequest as _vxmesh_v1_TraceRequest, TraceRequest__Output as _vxmesh_v1_TraceRequest__Output } from './vxmesh/v1/TraceRequest.js';
import type { UpdateServiceRequest as _vxmesh_v1_UpdateServiceRequest, UpdateServiceRequest__Output as _vxmesh_v1_UpdateServiceRequest__Output } from './vxmesh/v1/UpdateServiceRequest.js';
import type { VxmeshClient as _vxmesh_v1_VxmeshClient, VxmeshDefinition as _vxmesh_v1_VxmeshDefinition } from './vxmesh/v1/Vxmesh.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  vxmesh: {
    v1: {
      AttachRequest: MessageTypeDefinition<_vxmesh_v1_AttachRequest, _vxmesh_v1_AttachRequest__Output>
      CreateNetworkRequest: MessageTypeDefinition<_vxmesh_v1_CreateNetworkRequest, _vxmesh_v1_CreateNetworkRequest__Output>
      CreateServiceRequest: MessageTypeDefinition<_vxmesh_v1_CreateServiceRequest, _vxmesh_v1_CreateServiceRequest__Output>
      DetachRequest: MessageTypeDefinition<_vxmesh_v1_DetachRequest, _vxmesh_v1_DetachRequest__Output>
      DetachResponse: MessageTypeDefinition<_vxmesh_v1_DetachResponse, _vxmesh_v1_DetachResponse__Output>
      DoctorCheckResult: MessageTypeDefinition<_vxmesh_v1_DoctorCheckResult, _vxmesh_v1_DoctorCheckResult__Output>
      DoctorReport: MessageTypeDefinition<_vxmesh_v1_DoctorReport, _vxmesh_v1_DoctorReport__Output>
      DoctorRequest: MessageTypeDefinition<_vxmesh_v1_DoctorRequest, _vxmesh_v1_DoctorRequest__Output>
      EndpointInfo: MessageTypeDefinition<_vxmesh_v1_EndpointInfo, _vxmesh_v1_EndpointInfo__Output>
      FeatureProbe: MessageTypeDefinition<_vxmesh_v1_FeatureProbe, _vxmesh_v1_FeatureProbe__Output>
      GossipKeyFailure: MessageTypeDefinition<_vxmesh_v1_GossipKeyFailure, _vxmesh_v1_GossipKeyFailure__Output>
      GossipKeyRequest: MessageTypeDefinition<_vxmesh_v1_GossipKeyRequest, _vxmesh_v1_GossipKeyRequest__Output>
      GossipKeyResponse: MessageTypeDefinition<_vxmesh_v1_GossipKeyResponse, _vxmesh_v1_GossipKeyResponse__Output>
      GossipNode: MessageTypeDefinition<_vxmesh_v1_GossipNode, _vxmesh_v1_GossipNode__Output>
      GossipStatus: MessageTypeDefinition<_vxmesh_v1_GossipStatus, _vxmesh_v1_GossipStatus__Output>
      InspectNetworkRequest: MessageTypeDefinition<_vxmesh_v1_InspectNetworkRequest, _vxmesh_v1_InspectNetworkRequest__Output>
      InspectServiceRequest: MessageTypeDefinition<_vxmesh_v1_InspectServiceRequest, _vxmesh_v1_InspectServiceRequest__Output>
      ListEndpointsRequest: MessageTypeDefinition<_vxmesh_v1_ListEndpointsRequest, _vxmesh_v1_ListEndpointsRequest__Output>
      ListEndpointsResponse: MessageTypeDefinition<_vxmesh_v1_ListEndpointsResponse, _vxmesh_v1_ListEndpointsResponse__Output>
      ListNetworksRequest: MessageTypeDefinition<_vxmesh_v1_ListNetworksRequest, _vxmesh_v1_ListNetworksRequest__Output>
      ListNetworksResponse: MessageTypeDefinition<_vxmesh_v1_ListNetworksResponse, _vxmesh_v1_ListNetworksResponse__Output>
      ListNodesRequest: MessageTypeDefinition<_vxmesh_v1_ListNodesRequest, _vxmesh_v1_ListNodesRequest__Output>
      ListNodesResponse: MessageTypeDefinition<_vxmesh_v1_ListNodesResponse, _vxmesh_v1_ListNodesResponse__Output>
      ListServicesRequest: MessageTypeDefinition<_vxmesh_v1_ListServicesRequest, _vxmesh_v1_ListServicesRequest__Output>
      ListServicesResponse: MessageTypeDefinition<_vxmesh_v1_ListServicesResponse, _vxmesh_v1_ListServicesResponse__Output>
      NetworkInfo: MessageTypeDefinition<_vxmesh_v1_NetworkInfo, _vxmesh_v1_NetworkInfo__Output>
      PoolGrant: MessageTypeDefinition<_vxmesh_v1_PoolGrant, _vxmesh_v1_PoolGrant__Output>
      PublishSpec: MessageTypeDefinition<_vxmesh_v1_PublishSpec, _vxmesh_v1_PublishSpec__Output>
      ReleaseAddressRequest: MessageTypeDefinition<_vxmesh_v1_ReleaseAddressRequest, _vxmesh_v1_ReleaseAddressRequest__Output>
      ReleaseAddressResponse: MessageTypeDefinition<_vxmesh_v1_ReleaseAddressResponse, _vxmesh_v1_ReleaseAddressResponse__Output>
      ReleasePoolRequest: MessageTypeDefinition<_vxmesh_v1_ReleasePoolRequest, _vxmesh_v1_ReleasePoolRequest__Output>
      ReleasePoolResponse: MessageTypeDefinition<_vxmesh_v1_ReleasePoolResponse, _vxmesh_v1_ReleasePoolResponse__Output>
      RemoveNetworkRequest: MessageTypeDefinition<_vxmesh_v1_RemoveNetworkRequest, _vxmesh_v1_RemoveNetworkRequest__Output>
      RemoveNetworkResponse: MessageTypeDefinition<_vxmesh_v1_RemoveNetworkResponse, _vxmesh_v1_RemoveNetworkResponse__Output>
      RemoveServiceRequest: MessageTypeDefinition<_vxmesh_v1_RemoveServiceRequest, _vxmesh_v1_RemoveServiceRequest__Output>
      RemoveServiceResponse: MessageTypeDefinition<_vxmesh_v1_RemoveServiceResponse, _vxmesh_v1_RemoveServiceResponse__Output>
      RequestAddressRequest: MessageTypeDefinition<_vxmesh_v1_RequestAddressRequest, _vxmesh_v1_RequestAddressRequest__Output>
      RequestAddressResponse: MessageTypeDefinition<_vxmesh_v1_RequestAddressResponse, _vxmesh_v1_RequestAddressResponse__Output>
      RequestPoolRequest: MessageTypeDefinition<_vxmesh_v1_RequestPoolRequest, _vxmesh_v1_RequestPoolRequest__Output>
      ServiceInfo: MessageTypeDefinition<_vxmesh_v1_ServiceInfo, _vxmesh_v1_ServiceInfo__Output>
      ServicePortInfo: MessageTypeDefinition<_vxmesh_v1_ServicePortInfo, _vxmesh_v1_ServicePortInfo__Output>
      ServiceTaskInfo: MessageTypeDefinition<_vxmesh_v1_ServiceTaskInfo, _vxmesh_v1_ServiceTaskInfo__Output>
      ServiceVipInfo: MessageTypeDefinition<_vxmesh_v1_ServiceVipInfo, _vxmesh_v1_ServiceVipInfo__Output>
      StatusInfo: MessageTypeDefinition<_vxmesh_v1_StatusInfo, _vxmesh_v1_StatusInfo__Output>
      StatusRequest: MessageTypeDefinition<_vxmesh_v1_StatusRequest, _vxmesh_v1_StatusRequest__Output>
      StoreStatus: MessageTypeDefinition<_vxmesh_v1_StoreStatus, _vxmesh_v1_StoreStatus__Output>
      SubnetInfo: MessageTypeDefinition<_vxmesh_v1_SubnetInfo, _vxmesh_v1_SubnetInfo__Output>
      TraceHop: MessageTypeDefinition<_vxmesh_v1_TraceHop, _vxmesh_v1_TraceHop__Output>
      TraceInfo: MessageTypeDefinition<_vxmesh_v1_TraceInfo, _vxmesh_v1_TraceInfo__Output>
      TraceRequest: MessageTypeDefinition<_vxmesh_v1_TraceRequest, _vxmesh_v1_TraceRequest__Output>
      UpdateServiceRequest: MessageTypeDefinition<_vxmesh_v1_UpdateServiceRequest, _vxmesh_v1_UpdateServiceRequest__Output>
      Vxmesh: SubtypeConstructor<typeof grpc.Client, _vxmesh_v1_VxmeshClient> & { service: _vxmesh_v1_VxmeshDefinition }
    }
  }
}

