#include "operator/kube/resource.h"

#include <gtest/gtest.h>

namespace fmq::op::kube {
namespace {

TEST(ResourceTest, PathsForCoreGroupAndNamedGroups) {
  EXPECT_EQ(ResourcePath(kinds::kConfigMap, "ns", "cm"), "/api/v1/namespaces/ns/configmaps/cm");
  EXPECT_EQ(ResourcePath(kinds::kConfigMap, "ns"), "/api/v1/namespaces/ns/configmaps");
  EXPECT_EQ(ResourcePath(kinds::kConfigMap, ""), "/api/v1/configmaps");
  EXPECT_EQ(ResourcePath(kinds::kStatefulSet, "prod", "prod-broker-0", "status"),
            "/apis/apps/v1/namespaces/prod/statefulsets/prod-broker-0/status");
  EXPECT_EQ(ResourcePath(kinds::kFerryTopic, "a", "orders"),
            "/apis/ferrymq.io/v1alpha1/namespaces/a/topics/orders");
  EXPECT_EQ(ResourcePath(kinds::kLease, "kube-system", "ferrymq-operator"),
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/ferrymq-operator");
  EXPECT_EQ(ResourcePath(kinds::kPodDisruptionBudget, "n", "p"),
            "/apis/policy/v1/namespaces/n/poddisruptionbudgets/p");
}

TEST(ResourceTest, ClusterScopedKindsIgnoreTheNamespace) {
  EXPECT_EQ(ResourcePath(kinds::kNamespace, "ignored", "prod"), "/api/v1/namespaces/prod");
  EXPECT_EQ(ResourcePath(kinds::kNode, "", "n1"), "/api/v1/nodes/n1");
  EXPECT_EQ(ResourcePath(kinds::kCustomResourceDefinition, "", "clusters.ferrymq.io"),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusters.ferrymq.io");
}

TEST(ResourceTest, EscapesNamesAndQueryValues) {
  EXPECT_EQ(ResourcePath(kinds::kConfigMap, "n s", "a/b?c#d"),
            "/api/v1/namespaces/n%20s/configmaps/a%2Fb%3Fc%23d");
  Query q;
  q.Add("labelSelector", "app in (a,b),tier!=x").AddIfSet("fieldSelector", "").Add("limit", "500");
  EXPECT_EQ(q.Encode(), "?labelSelector=app%20in%20%28a%2Cb%29%2Ctier%21%3Dx&limit=500");
  EXPECT_EQ(Query().Encode(), "");
  EXPECT_EQ(UrlEscape("a-b_c.d~e+f&g=h%"), "a-b_c.d~e%2Bf%26g%3Dh%25");
  EXPECT_EQ(UrlEscape("\xc3\xa9"), "%C3%A9");
}

TEST(ResourceTest, ApiVersionAndResourceNames) {
  EXPECT_EQ(kinds::kPod.ApiVersion(), "v1");
  EXPECT_EQ(kinds::kDeployment.ApiVersion(), "apps/v1");
  EXPECT_EQ(kinds::kFerryCluster.ApiVersion(), "ferrymq.io/v1alpha1");
  EXPECT_EQ(kinds::kStatefulSet.Resource(), "statefulsets.apps");
  EXPECT_EQ(kinds::kService.Resource(), "services");
  EXPECT_EQ(kinds::kFerryUser.ApiPrefix(), "/apis/ferrymq.io/v1alpha1");
  EXPECT_TRUE(kinds::kFerryConsumerGroup.namespaced);
  EXPECT_FALSE(kinds::kCustomResourceDefinition.namespaced);
}

}  // namespace
}  // namespace fmq::op::kube
