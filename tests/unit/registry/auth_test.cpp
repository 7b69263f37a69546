// WWW-Authenticate parsing and the Authenticator against a token server on 127.0.0.1
// (docs/design/registry.md §5.1-5.7).

#include "http/test_server.hpp"
#include "registry/auth.hpp"
#include "core/base64.hpp"
#include "registry/docker_config.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

namespace edgeship::registry {
namespace {

using test::RawRequest;
using test::reply;
using test::TestServer;

// ---- parse_challenges ----------------------------------------------------------------------------

TEST(ParseChallenges, BearerWithQuotedCommas) {
    auto c = parse_challenges(
        R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push")");
    ASSERT_TRUE(c) << c.error().what();
    ASSERT_EQ(c->size(), 1U);
    EXPECT_EQ((*c)[0].scheme, "bearer");
    EXPECT_EQ((*c)[0].params.at("realm"), "https://auth.example/token");
    EXPECT_EQ((*c)[0].params.at("service"), "registry.example");
    EXPECT_EQ((*c)[0].params.at("scope"), "repository:a/b:pull,push");
}

TEST(ParseChallenges, Table) {
    struct Case {
        const char* header;
        std::vector<std::pair<std::string, std::map<std::string, std::string>>> want;
    };
    const std::vector<Case> cases = {
        {R"(Basic realm="test-realm")", {{"basic", {{"realm", "test-realm"}}}}},
        {R"(BASIC Realm="r")", {{"basic", {{"realm", "r"}}}}},
        {R"(Basic realm="a", Bearer realm="https://t/token",service="s")",
         {{"basic", {{"realm", "a"}}}, {"bearer", {{"realm", "https://t/token"}, {"service", "s"}}}}},
        {R"(Bearer realm="https://t/token", service="s", scope="repository:x:pull" , error="insufficient_scope")",
         {{"bearer",
           {{"realm", "https://t/token"}, {"service", "s"}, {"scope", "repository:x:pull"}, {"error", "insufficient_scope"}}}}},
        {R"(Bearer realm="a \"quoted\" realm\\",service=plain-token)",
         {{"bearer", {{"realm", R"(a "quoted" realm\)"}, {"service", "plain-token"}}}}},
        {R"(Bearer realm="x",scope="repository:a:pull repository:b:pull,push")",
         {{"bearer", {{"realm", "x"}, {"scope", "repository:a:pull repository:b:pull,push"}}}}},
        {"Negotiate abc123==, Basic realm=\"r\"", {{"negotiate", {{"token68", "abc123=="}}}, {"basic", {{"realm", "r"}}}}},
        {"Bearer", {{"bearer", {}}}},
        {"", {}},
        {" ,  Basic realm=\"r\" , ", {{"basic", {{"realm", "r"}}}}},
    };
    for (const auto& tc : cases) {
        auto got = parse_challenges(tc.header);
        ASSERT_TRUE(got) << tc.header << ": " << got.error().what();
        ASSERT_EQ(got->size(), tc.want.size()) << tc.header;
        for (std::size_t i = 0; i < tc.want.size(); ++i) {
            EXPECT_EQ((*got)[i].scheme, tc.want[i].first) << tc.header;
            EXPECT_EQ((*got)[i].params, tc.want[i].second) << tc.header;
        }
    }
}

TEST(ParseChallenges, Malformed) {
    for (const char* bad : {R"(Bearer realm="unterminated)", R"(Bearer realm="a" junk="b)", R"(Bearer realm="a" x)"}) {
        EXPECT_FALSE(parse_challenges(bad)) << bad;
    }
}

TEST(RepositoryScope, Grammar) { EXPECT_EQ(repository_scope("team/app", "pull,push"), "repository:team/app:pull,push"); }

// ---- Authenticator -------------------------------------------------------------------------------

struct FakeClock {
    std::chrono::system_clock::time_point t = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
};

std::shared_ptr<Authenticator> make_auth(Credential cred, FakeClock& clock, std::string host = "127.0.0.1:5000") {
    AuthenticatorOptions o;
    o.registry_host = std::move(host);
    o.credential = std::move(cred);
    o.now = [&clock] { return clock.t; };
    o.http.retry.max_attempts = 1;
    auto a = Authenticator::create(std::move(o));
    EXPECT_TRUE(a) << a.error().what();
    return *a;
}

Credential basic(std::string user = "testuser", std::string pass = "testpass") {
    Credential c;
    c.kind = Credential::Kind::basic;
    c.username = std::move(user);
    c.secret = std::move(pass);
    c.source = "docker config /root/.docker/config.json";
    return c;
}

std::string bearer_challenge(const TestServer& s, const std::string& extra = "") {
    return "Bearer realm=\"" + s.url("/token") + "\",service=\"test-registry\"" + extra;
}

// A token server: tokens "t1", "t2", … (JSON field chosen by the test).
struct TokenServer {
    std::atomic<int> issued{0};
    std::string field = "token";
    int expires_in = 300;
    int status = 200;
    bool post_404 = false;
    TestServer server{[this](const RawRequest& r) {
        if (r.method == "POST" && post_404) {
            return reply(404, R"({"error":"not_found"})");
        }
        if (status != 200) {
            return reply(status, R"({"error":"invalid_grant"})");
        }
        int n = ++issued;
        nlohmann::json j = {{field, "t" + std::to_string(n)}, {"expires_in", expires_in}};
        return reply(200, j.dump(), {{"Content-Type", "application/json"}});
    }};
};

TEST(Authenticator, BasicChallengeAnsweredThenRejected) {
    FakeClock clock;
    auto a = make_auth(basic(), clock);
    EXPECT_FALSE(a->cached({}));
    auto h = a->respond({R"(Basic realm="test-realm")"}, {});
    ASSERT_TRUE(h) << h.error().what();
    EXPECT_EQ(*h, "Basic dGVzdHVzZXI6dGVzdHBhc3M="); // base64("testuser:testpass")
    EXPECT_EQ(a->cached({"repository:x:pull"}).value_or(""), *h);
    auto again = a->respond({R"(Basic realm="test-realm")"}, {});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), ExitCode::auth);
    EXPECT_NE(again.error().what().find("authentication failed for testuser"), std::string::npos) << again.error().what();
    EXPECT_EQ(again.error().what().find("testpass"), std::string::npos);
}

TEST(Authenticator, BasicWithoutCredentialIsAuthError) {
    FakeClock clock;
    auto a = make_auth(Credential{}, clock);
    auto h = a->respond({R"(Basic realm="r")"}, {});
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().code(), ExitCode::auth);
    EXPECT_NE(h.error().hint_text().find("edgeship login"), std::string::npos);
}

TEST(Authenticator, BearerGetWithBasicCachesAndRefreshesEarly) {
    TokenServer ts;
    ts.expires_in = 100;
    FakeClock clock;
    auto a = make_auth(basic(), clock);
    std::vector<std::string> scopes = {"repository:team/app:pull,push", "repository:team/base:pull"};
    auto h = a->respond({bearer_challenge(ts.server, R"(,scope="repository:team/app:pull,push")")}, scopes);
    ASSERT_TRUE(h) << h.error().what();
    EXPECT_EQ(*h, "Bearer t1");
    auto reqs = ts.server.requests();
    ASSERT_EQ(reqs.size(), 1U);
    EXPECT_EQ(reqs[0].method, "GET");
    EXPECT_EQ(reqs[0].target, "/token?service=test-registry&scope=repository%3Ateam%2Fapp%3Apull%2Cpush"
                              "&scope=repository%3Ateam%2Fbase%3Apull&account=testuser");
    EXPECT_EQ(reqs[0].header("Authorization"), "Basic dGVzdHVzZXI6dGVzdHBhc3M=");

    // Same scope set in another order: same cache entry, no request.
    std::vector<std::string> reversed = {scopes[1], scopes[0]};
    EXPECT_EQ(a->cached(reversed).value_or(""), "Bearer t1");
    clock.t += std::chrono::seconds(85); // 15 s left of 100: more than 10% left
    EXPECT_EQ(a->cached(scopes).value_or(""), "Bearer t1");
    EXPECT_EQ(ts.issued.load(), 1);
    clock.t += std::chrono::seconds(6); // 9 s left < 10%: refreshed before it expires
    EXPECT_EQ(a->cached(scopes).value_or(""), "Bearer t2");
    EXPECT_EQ(ts.issued.load(), 2);
    // Another scope set has its own token.
    EXPECT_EQ(a->cached({"repository:other:pull"}).value_or(""), "Bearer t3");
    a->invalidate(scopes);
    EXPECT_EQ(a->cached(scopes).value_or(""), "Bearer t4");
}

TEST(Authenticator, ExpiresInDefaultsToSixtySeconds) {
    FakeClock clock;
    TestServer srv([&](const RawRequest&) { return reply(200, R"({"token":"only"})"); });
    auto a = make_auth(basic(), clock);
    ASSERT_TRUE(a->respond({bearer_challenge(srv)}, {"s"}));
    clock.t += std::chrono::seconds(53);
    EXPECT_EQ(a->cached({"s"}).value_or(""), "Bearer only");
    EXPECT_EQ(srv.requests().size(), 1U);
    clock.t += std::chrono::seconds(2); // 5 s left of 60 (< 10%)
    EXPECT_EQ(a->cached({"s"}).value_or(""), "Bearer only");
    EXPECT_EQ(srv.requests().size(), 2U);
}

TEST(Authenticator, AccessTokenOnlyReply) {
    TokenServer ts;
    ts.field = "access_token"; // ACR (docs/design/registry.md §5.2)
    FakeClock clock;
    auto a = make_auth(basic(), clock, "myacr.azurecr.io");
    auto h = a->respond({bearer_challenge(ts.server)}, {"repository:x:pull"});
    ASSERT_TRUE(h) << h.error().what();
    EXPECT_EQ(*h, "Bearer t1");
}

TEST(Authenticator, AnonymousGetSendsNoAuthorization) {
    TokenServer ts;
    FakeClock clock;
    auto a = make_auth(Credential{}, clock);
    ASSERT_TRUE(a->respond({bearer_challenge(ts.server)}, {"repository:library/busybox:pull"}));
    auto reqs = ts.server.requests();
    ASSERT_EQ(reqs.size(), 1U);
    EXPECT_FALSE(reqs[0].has_header("Authorization"));
    EXPECT_EQ(reqs[0].target.find("account="), std::string::npos);
}

TEST(Authenticator, IdentityTokenUsesOAuth2Post) {
    TokenServer ts;
    FakeClock clock;
    Credential c;
    c.kind = Credential::Kind::identity_token;
    c.username = "<token>";
    c.secret = "refresh/with+special=chars";
    c.source = "credential helper docker-credential-x";
    auto a = make_auth(c, clock);
    auto h = a->respond({bearer_challenge(ts.server)}, {"repository:a:pull,push", "repository:b:pull"});
    ASSERT_TRUE(h) << h.error().what();
    auto reqs = ts.server.requests();
    ASSERT_EQ(reqs.size(), 1U);
    EXPECT_EQ(reqs[0].method, "POST");
    EXPECT_EQ(reqs[0].header("Content-Type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(reqs[0].body, "grant_type=refresh_token&service=test-registry"
                            "&scope=repository%3Aa%3Apull%2Cpush%20repository%3Ab%3Apull&client_id=edgeship"
                            "&refresh_token=refresh%2Fwith%2Bspecial%3Dchars");
    EXPECT_FALSE(reqs[0].has_header("Authorization"));
}

TEST(Authenticator, AcrAllZerosUserIsIdentityToken) {
    TokenServer ts;
    FakeClock clock;
    auto a = make_auth(basic("00000000-0000-0000-0000-000000000000", "acr-refresh"), clock, "myacr.azurecr.io");
    ASSERT_TRUE(a->respond({bearer_challenge(ts.server)}, {"repository:x:pull"}));
    auto reqs = ts.server.requests();
    ASSERT_EQ(reqs.size(), 1U);
    EXPECT_EQ(reqs[0].method, "POST");
    EXPECT_NE(reqs[0].body.find("refresh_token=acr-refresh"), std::string::npos);
}

TEST(Authenticator, PostNotFoundFallsBackToGet) {
    TokenServer ts;
    ts.post_404 = true;
    FakeClock clock;
    Credential c;
    c.kind = Credential::Kind::identity_token;
    c.username = "<token>";
    c.secret = "rt";
    c.source = "docker config x";
    auto a = make_auth(c, clock);
    auto h = a->respond({bearer_challenge(ts.server)}, {"s"});
    ASSERT_TRUE(h) << h.error().what();
    EXPECT_EQ(*h, "Bearer t1");
    auto reqs = ts.server.requests();
    ASSERT_EQ(reqs.size(), 2U);
    EXPECT_EQ(reqs[0].method, "POST");
    EXPECT_EQ(reqs[1].method, "GET");
    EXPECT_EQ(reqs[1].header("Authorization"), "Basic " + core::base64_encode("<token>:rt"));
}

TEST(Authenticator, TokenServerRefusalIsAuthErrorWithoutSecret) {
    TokenServer ts;
    ts.status = 401;
    FakeClock clock;
    auto a = make_auth(basic("testuser", "wrong-secret"), clock);
    auto h = a->respond({bearer_challenge(ts.server)}, {"s"});
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().code(), ExitCode::auth);
    EXPECT_EQ(h.error().what(),
              "registry 127.0.0.1:5000: authentication failed for testuser (credential from docker config "
              "/root/.docker/config.json): token server answered 401");
}

TEST(Authenticator, TokenServerErrorIsFailure) {
    TokenServer ts;
    ts.status = 500;
    FakeClock clock;
    auto a = make_auth(basic(), clock);
    auto h = a->respond({bearer_challenge(ts.server)}, {"s"});
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().code(), ExitCode::failure);
    EXPECT_NE(h.error().what().find("500"), std::string::npos) << h.error().what();
}

TEST(Authenticator, RealmMustBeHttps) {
    FakeClock clock;
    auto a = make_auth(basic(), clock, "registry.example");
    auto h = a->respond({R"(Bearer realm="http://auth.example/token",service="s")"}, {"s"});
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().code(), ExitCode::auth);
    EXPECT_NE(h.error().what().find("plain http"), std::string::npos) << h.error().what();
    auto ftp = a->respond({R"(Bearer realm="ftp://auth.example/token")"}, {"s"});
    ASSERT_FALSE(ftp);
    auto none = a->respond({R"(Bearer service="s")"}, {"s"});
    ASSERT_FALSE(none);
}

TEST(Authenticator, InsufficientScopeAfterGrantIsDenied) {
    TokenServer ts;
    FakeClock clock;
    auto a = make_auth(basic(), clock);
    std::vector<std::string> scopes = {"repository:other/img:pull,push"};
    ASSERT_TRUE(a->respond({bearer_challenge(ts.server)}, scopes));
    auto h = a->respond(
        {bearer_challenge(ts.server, R"(,scope="repository:other/img:pull,push",error="insufficient_scope")")}, scopes);
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().code(), ExitCode::auth);
    EXPECT_NE(h.error().what().find("not allowed repository:other/img:pull,push"), std::string::npos) << h.error().what();
    EXPECT_EQ(ts.issued.load(), 1);
}

TEST(Authenticator, InsufficientScopeForNewScopeFetchesWider) {
    TokenServer ts;
    FakeClock clock;
    auto a = make_auth(basic(), clock);
    ASSERT_TRUE(a->respond({bearer_challenge(ts.server)}, {}));
    auto h = a->respond({bearer_challenge(ts.server, R"(,scope="repository:x:pull",error="insufficient_scope")")}, {});
    ASSERT_TRUE(h) << h.error().what();
    EXPECT_EQ(*h, "Bearer t2");
    EXPECT_NE(ts.server.requests().back().target.find("scope=repository%3Ax%3Apull"), std::string::npos);
}

TEST(Authenticator, InvalidTokenFetchesANewOne) {
    TokenServer ts;
    FakeClock clock;
    auto a = make_auth(basic(), clock);
    ASSERT_EQ(a->respond({bearer_challenge(ts.server)}, {"s"}).value_or(""), "Bearer t1");
    auto h = a->respond({bearer_challenge(ts.server, R"(,error="invalid_token")")}, {"s"});
    ASSERT_TRUE(h) << h.error().what();
    EXPECT_EQ(*h, "Bearer t2");
}

TEST(Authenticator, RegistryTokenSentDirectly) {
    FakeClock clock;
    Credential c;
    c.kind = Credential::Kind::registry_token;
    c.secret = "direct";
    c.source = "docker config x";
    auto a = make_auth(c, clock);
    EXPECT_EQ(a->cached({"s"}).value_or(""), "Bearer direct");
    auto h = a->respond({R"(Bearer realm="https://auth/token",error="invalid_token")"}, {"s"});
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().code(), ExitCode::auth);
}

TEST(Authenticator, EmptySecretRefused) {
    AuthenticatorOptions o;
    o.registry_host = "h";
    o.credential = basic("u", "");
    auto a = Authenticator::create(o);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().code(), ExitCode::auth);
}

TEST(Authenticator, ThreadsShareOneTokenRequest) {
    TokenServer ts;
    FakeClock clock;
    auto a = make_auth(basic(), clock);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&] {
            auto h = a->respond({bearer_challenge(ts.server)}, {"repository:x:pull,push"});
            if (h && *h == "Bearer t1") {
                ++ok;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(ok.load(), 4);
    EXPECT_EQ(ts.issued.load(), 1);
}

} // namespace
} // namespace edgeship::registry
