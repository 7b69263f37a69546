#include "iothub/service_error.hpp"

#include <gtest/gtest.h>

namespace edgeship::iothub {
namespace {

http::Response response(long status, std::string body, http::Headers headers = {}) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

TEST(ServiceError, ClassicBody) {
    auto e = parse_service_error(response(
        429, R"({"Message":"ErrorCode:ThrottlingBacklogTimeout;The request has been throttled. Wait 10 seconds and try again. Operation type: CRUD","ExceptionMessage":"Tracking ID:0123456789abcdef0123456789abcdef-G:0-TimeStamp:01/02/2024 10:00:00"})",
        {{"iothub-errorcode", "ThrottlingException"}}));
    EXPECT_EQ(e.name, "ThrottlingException"); // the header wins (docs/design/iothub.md §10)
    EXPECT_EQ(e.message, "The request has been throttled. Wait 10 seconds and try again. Operation type: CRUD");
    EXPECT_EQ(e.tracking_id, "0123456789abcdef0123456789abcdef");
}

TEST(ServiceError, ClassicBodyWithoutHeader) {
    auto e = parse_service_error(response(409, R"({"Message":"ErrorCode:ConfigurationAlreadyExists;Configuration with id 'x' already exists."})"));
    EXPECT_EQ(e.name, "ConfigurationAlreadyExists");
    EXPECT_EQ(e.message, "Configuration with id 'x' already exists.");
}

TEST(ServiceError, JsonInMessage) {
    auto e = parse_service_error(response(
        404, R"({"Message":"{\"errorCode\":404001,\"trackingId\":\"abc-G:1\",\"message\":\"Device dev9 not found\",\"timestampUtc\":\"2024-01-01T00:00:00Z\"}","ExceptionMessage":""})"));
    EXPECT_EQ(e.number, "404001");
    EXPECT_EQ(e.name, "DeviceNotFound"); // from the code table
    EXPECT_EQ(e.message, "Device dev9 not found");
    EXPECT_EQ(e.tracking_id, "abc-G:1");
}

TEST(ServiceError, MessageAsAJsonObjectKeepsItsText) {
    auto e = parse_service_error(response(
        404, R"({"Message":{"errorCode":404301,"trackingId":"t-G:2","message":"Configuration v9 not found"}})"));
    EXPECT_EQ(e.number, "404301");
    EXPECT_EQ(e.name, "ConfigurationNotFound"); // IotHubServiceErrorCode
    EXPECT_EQ(e.message, "Configuration v9 not found");
    EXPECT_EQ(e.tracking_id, "t-G:2");
}

TEST(ServiceError, JsonStringHoldingJsonKeepsTheInnerText) {
    // Message is a JSON string whose message is itself JSON text.
    auto e = parse_service_error(response(
        500, R"({"Message":"{\"errorCode\":500001,\"message\":\"{\\\"Message\\\":\\\"backend said no\\\"}\"}"})"));
    EXPECT_EQ(e.number, "500001");
    EXPECT_EQ(e.name, "ServerError");
    EXPECT_EQ(e.message, "backend said no");
}

TEST(ServiceError, UnknownJsonObjectMessageIsKeptAsText) {
    auto e = parse_service_error(response(400, R"({"Message":{"detail":"bad target condition"}})"));
    EXPECT_EQ(e.message, R"({"detail":"bad target condition"})");
}

TEST(ServiceError, RawTextFallback) {
    auto e = parse_service_error(response(502, "<html>Bad gateway</html>\nmore"));
    EXPECT_EQ(e.name, "");
    EXPECT_EQ(e.message, "<html>Bad gateway</html>");
}

TEST(ServiceError, HubErrorIsOneLineWithExitCodes) {
    http::Request req{"GET", "https://h/twins/d/modules/%24edgeAgent?api-version=2021-04-12", {}, ""};
    auto nf = hub_error(req, response(404, R"({"Message":"ErrorCode:DeviceNotFound;Device d not found"})",
                                      {{"iothub-errorcode", "DeviceNotFound"}}));
    EXPECT_EQ(nf.what(), "GET https://h/twins/d/modules/%24edgeAgent: 404 Not Found: DeviceNotFound: Device d not found");
    EXPECT_EQ(nf.code(), ExitCode::failure);

    auto json_form = hub_error(req, response(404, R"({"Message":"{\"errorCode\":404010,\"message\":\"Module m not found\"}"})"));
    EXPECT_EQ(json_form.what(), "GET https://h/twins/d/modules/%24edgeAgent: 404 Not Found: ModuleNotFound (404010): Module m not found");

    auto unauth = hub_error(req, response(401, R"({"Message":"ErrorCode:IotHubUnauthorizedAccess;Unauthorized"})",
                                          {{"iothub-errorcode", "IotHubUnauthorizedAccess"}}));
    EXPECT_EQ(unauth.code(), ExitCode::auth);
    EXPECT_NE(unauth.hint_text().find("SharedAccessKey"), std::string::npos);
}

TEST(ServiceError, UnauthorizedWithSkewedHubClockNamesTheSkew) {
    http::Request req{"GET", "https://h/configurations?api-version=2021-04-12", {}, ""};
    auto local = std::chrono::system_clock::from_time_t(1700000000); // Tue, 14 Nov 2023 22:13:20 GMT
    auto e = hub_error(req, response(401, "", {{"Date", "Wed, 15 Nov 2023 00:13:20 GMT"}}), local);
    EXPECT_EQ(e.code(), ExitCode::auth);
    EXPECT_EQ(e.hint_text(), "the hub's clock is 7200 s ahead of this machine's, so SAS tokens look expired or not "
                             "yet valid: fix the clock (NTP)");
    auto small = hub_error(req, response(401, "", {{"Date", "Tue, 14 Nov 2023 22:14:00 GMT"}}), local);
    EXPECT_NE(small.hint_text().find("SharedAccessKey"), std::string::npos);
}

} // namespace
} // namespace edgeship::iothub
