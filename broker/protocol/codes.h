#pragma once

// RocketMQ 4.x request and response codes (protocol reference sections 2.1 and 3). Kept as plain int
// constants with RocketMQ's names so a code read in a capture or a Java stack trace can be found here.

#include <cstdint>
#include <string_view>

namespace fmq::protocol {

namespace request_code {
inline constexpr int32_t kSendMessage = 10;
inline constexpr int32_t kPullMessage = 11;
inline constexpr int32_t kQueryMessage = 12;
inline constexpr int32_t kQueryConsumerOffset = 14;
inline constexpr int32_t kUpdateConsumerOffset = 15;
inline constexpr int32_t kUpdateAndCreateTopic = 17;
inline constexpr int32_t kGetAllTopicConfig = 21;
inline constexpr int32_t kUpdateBrokerConfig = 25;
inline constexpr int32_t kGetBrokerConfig = 26;
inline constexpr int32_t kGetBrokerRuntimeInfo = 28;
inline constexpr int32_t kSearchOffsetByTimestamp = 29;
inline constexpr int32_t kGetMaxOffset = 30;
inline constexpr int32_t kGetMinOffset = 31;
inline constexpr int32_t kGetEarliestMsgStoreTime = 32;
inline constexpr int32_t kViewMessageById = 33;
inline constexpr int32_t kHeartBeat = 34;
inline constexpr int32_t kUnregisterClient = 35;
inline constexpr int32_t kConsumerSendMsgBack = 36;
inline constexpr int32_t kEndTransaction = 37;
inline constexpr int32_t kGetConsumerListByGroup = 38;
inline constexpr int32_t kCheckTransactionState = 39;
inline constexpr int32_t kNotifyConsumerIdsChanged = 40;
inline constexpr int32_t kLockBatchMq = 41;
inline constexpr int32_t kUnlockBatchMq = 42;
inline constexpr int32_t kGetAllConsumerOffset = 43;
inline constexpr int32_t kGetAllDelayOffset = 45;
inline constexpr int32_t kCheckClientConfig = 46;
inline constexpr int32_t kUpdateAndCreateAclConfig = 50;
inline constexpr int32_t kDeleteAclConfig = 51;
inline constexpr int32_t kGetBrokerClusterAclInfo = 52;
inline constexpr int32_t kUpdateGlobalWhiteAddrsConfig = 53;
inline constexpr int32_t kGetBrokerClusterAclConfig = 54;
inline constexpr int32_t kPutKvConfig = 100;
inline constexpr int32_t kGetKvConfig = 101;
inline constexpr int32_t kDeleteKvConfig = 102;
inline constexpr int32_t kRegisterBroker = 103;
inline constexpr int32_t kUnregisterBroker = 104;
inline constexpr int32_t kGetRouteInfoByTopic = 105;
inline constexpr int32_t kGetBrokerClusterInfo = 106;
inline constexpr int32_t kUpdateAndCreateSubscriptionGroup = 200;
inline constexpr int32_t kGetAllSubscriptionGroupConfig = 201;
inline constexpr int32_t kGetTopicStatsInfo = 202;
inline constexpr int32_t kGetConsumerConnectionList = 203;
inline constexpr int32_t kGetProducerConnectionList = 204;
inline constexpr int32_t kWipeWritePermOfBroker = 205;
inline constexpr int32_t kGetAllTopicListFromNameServer = 206;
inline constexpr int32_t kDeleteSubscriptionGroup = 207;
inline constexpr int32_t kGetConsumeStats = 208;
inline constexpr int32_t kDeleteTopicInBroker = 215;
inline constexpr int32_t kDeleteTopicInNamesrv = 216;
inline constexpr int32_t kGetKvListByNamespace = 219;
inline constexpr int32_t kResetConsumerClientOffset = 220;
inline constexpr int32_t kGetConsumerStatusFromClient = 221;
inline constexpr int32_t kInvokeBrokerToResetOffset = 222;
inline constexpr int32_t kInvokeBrokerToGetConsumerStatus = 223;
inline constexpr int32_t kGetTopicsByCluster = 224;
inline constexpr int32_t kQueryTopicConsumeByWho = 300;
inline constexpr int32_t kQueryConsumeTimeSpan = 303;
inline constexpr int32_t kGetSystemTopicListFromNs = 304;
inline constexpr int32_t kGetSystemTopicListFromBroker = 305;
inline constexpr int32_t kCleanExpiredConsumeQueue = 306;
inline constexpr int32_t kGetConsumerRunningInfo = 307;
inline constexpr int32_t kQueryCorrectionOffset = 308;
inline constexpr int32_t kConsumeMessageDirectly = 309;
inline constexpr int32_t kSendMessageV2 = 310;
inline constexpr int32_t kCloneGroupOffset = 314;
inline constexpr int32_t kViewBrokerStatsData = 315;
inline constexpr int32_t kCleanUnusedTopic = 316;
inline constexpr int32_t kGetBrokerConsumeStats = 317;
inline constexpr int32_t kUpdateNamesrvConfig = 318;
inline constexpr int32_t kGetNamesrvConfig = 319;
inline constexpr int32_t kSendBatchMessage = 320;
inline constexpr int32_t kQueryConsumeQueue = 321;
inline constexpr int32_t kQueryDataVersion = 322;
inline constexpr int32_t kResumeCheckHalfMessage = 323;
inline constexpr int32_t kSendReplyMessage = 324;
inline constexpr int32_t kSendReplyMessageV2 = 325;
inline constexpr int32_t kPushReplyMessageToClient = 326;
inline constexpr int32_t kAddWritePermOfBroker = 327;
inline constexpr int32_t kGetAllProducerInfo = 328;
inline constexpr int32_t kDeleteExpiredCommitLog = 329;

// FerryMQ's private range 9100-9199 (unused by RocketMQ 4.x and 5.x; docs/replication.md): replication admin.
inline constexpr int32_t kHaStatus = 9100;   // role, epochs, offsets, in-sync slaves (body: JSON)
inline constexpr int32_t kHaFence = 9101;    // promise to follow nothing below an epoch; stop copying/writes
inline constexpr int32_t kHaPromote = 9102;  // a slave becomes the master of an epoch
inline constexpr int32_t kHaBecomeSlave = 9103;  // a master (demote) or slave (re-point) follows a master
// Observability: the producer groups that sent to a topic in the last day (header "topic"; body
// {"producerGroups":{"<group>":<last send, epoch ms>}}). RocketMQ 4.x clients do not say which topics a
// producer group sends to anywhere else.
inline constexpr int32_t kTopicProducers = 9110;
}  // namespace request_code

namespace response_code {
inline constexpr int32_t kSuccess = 0;
inline constexpr int32_t kSystemError = 1;
inline constexpr int32_t kSystemBusy = 2;
inline constexpr int32_t kRequestCodeNotSupported = 3;
inline constexpr int32_t kTransactionFailed = 4;
inline constexpr int32_t kFlushDiskTimeout = 10;
inline constexpr int32_t kSlaveNotAvailable = 11;
inline constexpr int32_t kFlushSlaveTimeout = 12;
inline constexpr int32_t kMessageIllegal = 13;
inline constexpr int32_t kServiceNotAvailable = 14;
inline constexpr int32_t kVersionNotSupported = 15;
inline constexpr int32_t kNoPermission = 16;
inline constexpr int32_t kTopicNotExist = 17;
inline constexpr int32_t kTopicExistAlready = 18;
inline constexpr int32_t kPullNotFound = 19;
inline constexpr int32_t kPullRetryImmediately = 20;
inline constexpr int32_t kPullOffsetMoved = 21;
inline constexpr int32_t kQueryNotFound = 22;
inline constexpr int32_t kSubscriptionParseFailed = 23;
inline constexpr int32_t kSubscriptionNotExist = 24;
inline constexpr int32_t kSubscriptionNotLatest = 25;
inline constexpr int32_t kSubscriptionGroupNotExist = 26;
inline constexpr int32_t kFilterDataNotExist = 27;
inline constexpr int32_t kFilterDataNotLatest = 28;
inline constexpr int32_t kTransactionShouldCommit = 200;
inline constexpr int32_t kTransactionShouldRollback = 201;
inline constexpr int32_t kTransactionStateUnknow = 202;
inline constexpr int32_t kTransactionStateGroupWrong = 203;
inline constexpr int32_t kNoBuyerId = 204;
inline constexpr int32_t kNotInCurrentUnit = 205;
inline constexpr int32_t kConsumerNotOnline = 206;
inline constexpr int32_t kConsumeMsgTimeout = 207;
inline constexpr int32_t kNoMessage = 208;
inline constexpr int32_t kUpdateAndCreateAclConfigFailed = 209;
inline constexpr int32_t kDeleteAclConfigFailed = 210;
inline constexpr int32_t kUpdateGlobalWhiteAddrsConfigFailed = 211;
inline constexpr int32_t kFlowControl = 215;
}  // namespace response_code

// RocketMQ's name of a request code ("SEND_MESSAGE"), or "" when unknown.
std::string_view RequestCodeName(int32_t code);
// RocketMQ's name of a response code ("SERVICE_NOT_AVAILABLE"), or "" when unknown.
std::string_view ResponseCodeName(int32_t code);

}  // namespace fmq::protocol
