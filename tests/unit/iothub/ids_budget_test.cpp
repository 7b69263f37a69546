#include "iothub/ids.hpp"
#include "iothub/rate_budget.hpp"

#include <gtest/gtest.h>

namespace edgeship::iothub {
namespace {

using namespace std::chrono_literals;

TEST(Ids, DeviceIds) {
    EXPECT_EQ(*check_device_id("dev-1:a.b+c%_#*?!(),=@;$'"), "dev-1:a.b+c%_#*?!(),=@;$'");
    auto r = check_device_id("dev/1");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), "device id 'dev/1': character '/' is not allowed");
    EXPECT_EQ(r.error().code(), ExitCode::usage);
    EXPECT_EQ(check_device_id("a b").error().what(), "device id 'a b': character ' ' (space) is not allowed");
    EXPECT_EQ(check_device_id("").error().what(), "device id is empty");
    EXPECT_FALSE(check_device_id(std::string(129, 'a')));
    EXPECT_TRUE(check_device_id(std::string(128, 'a')));
}

TEST(Ids, DeploymentIdsAreLowerCasedAndRestricted) {
    EXPECT_EQ(*check_deployment_id("Score-V2_*!'+%"), "score-v2_*!'+%");
    auto r = check_deployment_id("score v2");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().what(), "deployment id 'score v2': character ' ' (space) is not allowed");
    for (const char* bad : {"a&b", "a^b", "a[b", "a]b", "a{b", "a}b", "a\\b", "a|b", "a\"b", "a<b", "a>b", "a/b", "a.b"}) {
        EXPECT_FALSE(check_deployment_id(bad)) << bad;
    }
    EXPECT_FALSE(check_deployment_id(std::string(129, 'a')));
}

TEST(RateBudget, SlidingWindow) {
    auto t = std::chrono::steady_clock::time_point{};
    RateBudget b("configuration", 2, 60s, [&t] { return t; });
    EXPECT_EQ(b.wait_time(), 0ms);
    b.record();
    t += 10s;
    b.record();
    EXPECT_EQ(b.wait_time(), 50s); // the first request leaves the window at 60 s
    t += 50s;
    EXPECT_EQ(b.wait_time(), 0ms);
    b.record();
    EXPECT_EQ(b.wait_time(), 10s);
}

TEST(RateBudget, TierBudgets) {
    auto s1 = budgets_for(Tier::s1, 2);
    EXPECT_EQ(s1.configuration_per_min, 40);
    EXPECT_EQ(s1.query_per_min, 40);
    EXPECT_EQ(s1.twin_reads_per_sec, 100);
    auto s3 = budgets_for(Tier::s3, 1);
    EXPECT_EQ(s3.query_per_min, 1000);
    EXPECT_EQ(s3.registry_per_min, 5000);
    EXPECT_EQ(budgets_for(Tier::f1, 5).configuration_per_min, 20);
}

} // namespace
} // namespace edgeship::iothub
