// The deployment id that labels the containers of `edgeship run` (lib/engine/deployment.hpp).

#include "engine/deployment.hpp"

#include <gtest/gtest.h>

namespace edgeship::engine {
namespace {

TEST(EngineDeployment, IdIsTheStemAndAHashOfTheAbsolutePath) {
    auto a = deployment_id("/work/sol-a/config/deployment.amd64.json");
    auto b = deployment_id("/work/sol-b/config/deployment.amd64.json");
    EXPECT_EQ(a.rfind("deployment.amd64-", 0), 0U) << a;
    EXPECT_EQ(a.size(), std::string("deployment.amd64-").size() + 12);
    EXPECT_NE(a, b); // two solutions never stop each other's modules
    // The same manifest named two ways is one deployment, so --stop finds what run started.
    EXPECT_EQ(a, deployment_id("/work/sol-a/config/../config/deployment.amd64.json"));
}

} // namespace
} // namespace edgeship::engine
