/* Short names for the generated protobuf-c types (proto/changetrace.proto). */
#ifndef CT_PB_H
#define CT_PB_H

#include "changetrace.pb-c.h"

typedef Changetrace__V1__Event           PbEvent;
typedef Changetrace__V1__Process         PbProcess;
typedef Changetrace__V1__Ancestor        PbAncestor;
typedef Changetrace__V1__Attribution     PbAttribution;
typedef Changetrace__V1__ExecDetail      PbExecDetail;
typedef Changetrace__V1__ExitDetail      PbExitDetail;
typedef Changetrace__V1__Deploy          PbDeploy;
typedef Changetrace__V1__AiProvenance    PbAiProvenance;
typedef Changetrace__V1__Registrant      PbRegistrant;
typedef Changetrace__V1__AgentDetail     PbAgentDetail;
typedef Changetrace__V1__GapDetail       PbGapDetail;
typedef Changetrace__V1__Request         PbRequest;
typedef Changetrace__V1__Response        PbResponse;
typedef Changetrace__V1__TagSelfRequest  PbTagSelfRequest;
typedef Changetrace__V1__StatusRequest   PbStatusRequest;
typedef Changetrace__V1__StatusResponse  PbStatusResponse;
typedef Changetrace__V1__Counter         PbCounter;
typedef Changetrace__V1__ProbeStatus     PbProbeStatus;
typedef Changetrace__V1__PathStatus      PbPathStatus;
typedef Changetrace__V1__NetPolicyChange PbNetPolicyChange;
typedef Changetrace__V1__FileChange      PbFileChange;
typedef Changetrace__V1__Container       PbContainer;
typedef Changetrace__V1__DeployRecord    PbDeployRecord;
typedef Changetrace__V1__DeployRegistry  PbDeployRegistry;
typedef Changetrace__V1__DeployStartRequest PbDeployStartRequest;
typedef Changetrace__V1__DeployEndRequest   PbDeployEndRequest;
typedef Changetrace__V1__DeployListRequest  PbDeployListRequest;
typedef Changetrace__V1__DeployShowRequest  PbDeployShowRequest;
typedef Changetrace__V1__DeployListResponse PbDeployListResponse;

#endif
