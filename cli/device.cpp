// `edgeship device create|show|list`: device identities (docs/design/iothub.md §7.2). Device keys are
// secrets: they are replaced by <redacted> unless --show-keys is given.

#include "cli/iothub_commands.hpp"

#include "iothub/ids.hpp"

namespace edgeship::cli {

namespace {

using nlohmann::json;

json without_keys(json device, bool show_keys) {
    if (show_keys) {
        return device;
    }
    if (device.contains("authentication") && device["authentication"].contains("symmetricKey") &&
        device["authentication"]["symmetricKey"].is_object()) {
        for (const char* k : {"primaryKey", "secondaryKey"}) {
            auto& sk = device["authentication"]["symmetricKey"];
            if (sk.contains(k) && !sk[k].is_null()) {
                sk[k] = "<redacted>";
            }
        }
    }
    return device;
}

std::string text(const json& j, const char* key) {
    auto it = j.find(key);
    return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string("-");
}

bool is_edge(const json& j) {
    return j.contains("capabilities") && j["capabilities"].is_object() && j["capabilities"].value("iotEdge", false);
}

void print_device(const json& d, std::ostream& out) {
    out << "device id:   " << text(d, "deviceId") << '\n';
    out << "edge:        " << (is_edge(d) ? "yes" : "no") << '\n';
    out << "status:      " << text(d, "status") << '\n';
    out << "connection:  " << text(d, "connectionState") << '\n';
    std::string auth = "-";
    if (d.contains("authentication") && d["authentication"].is_object()) {
        auth = text(d["authentication"], "type");
    }
    out << "auth:        " << auth << '\n';
}

} // namespace

DeviceRunners device_runners() { return {run_device_create, run_device_show, run_device_list}; }

void register_device(CLI::App& parent, Context& ctx, DeviceRunners runners) {
    auto* dev = parent.add_subcommand("device", "Manage device identities in IoT Hub");
    dev->require_subcommand(1);
    dev->footer("Examples:\n  edgeship device create dev1 --edge\n  edgeship device show dev1\n  edgeship device list --edge-only");
    {
        auto o = std::make_shared<DeviceCreateOptions>();
        auto* sub = dev->add_subcommand("create", "Register a device (the hub generates its SAS keys)");
        sub->add_option("ID", o->id, "Device id (letters, digits and -:.+%_#*?!(),=@;$')")->required();
        sub->add_flag("--edge", o->edge, "An IoT Edge device (capabilities.iotEdge), required for deployments");
        sub->add_flag("--show-keys", o->show_keys, "Print the generated keys (they are secrets)");
        sub->add_flag("--json", o->json, "Print the device identity as JSON");
        add_hub_flags(sub, o->hub);
        sub->footer("Examples:\n  edgeship device create dev1 --edge\n  edgeship device create sensor-7 --json");
        bind_action(sub, ctx, o, runners.create);
    }
    {
        auto o = std::make_shared<DeviceShowOptions>();
        auto* sub = dev->add_subcommand("show", "Show a device identity");
        sub->add_option("ID", o->id, "Device id")->required();
        sub->add_flag("--show-keys", o->show_keys, "Print the device's keys (they are secrets)");
        sub->add_flag("--json", o->json, "Print the device identity as JSON");
        add_hub_flags(sub, o->hub);
        sub->footer("Examples:\n  edgeship device show dev1\n  edgeship device show dev1 --json | jq .connectionState");
        bind_action(sub, ctx, o, runners.show);
    }
    {
        auto o = std::make_shared<DeviceListOptions>();
        auto* sub = dev->add_subcommand("list", "List devices (query API, one request per page)");
        sub->add_flag("--edge-only", o->edge_only, "Only IoT Edge devices");
        sub->add_option("--top", o->top, "Show at most N devices")->check(CLI::PositiveNumber);
        sub->add_option("--page-size", o->page_size, "Query page size (x-ms-max-item-count, default 100)")
            ->check(CLI::Range(1, 1000));
        sub->add_flag("--json", o->json, "Print the device twins as JSON");
        add_hub_flags(sub, o->hub);
        sub->footer("Examples:\n  edgeship device list\n  edgeship device list --edge-only --json | jq -r '.[].deviceId'");
        bind_action(sub, ctx, o, runners.list);
    }
}

Result<void> run_device_create(const DeviceCreateOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(std::string id, iothub::check_device_id(opts.id));
    EDGESHIP_TRY_ASSIGN(iothub::HubClient& hub, open_hub(opts.hub, ctx));
    auto created = hub.create_device(id, opts.edge);
    if (!created) {
        return unexpected(std::move(created).error().context("creating device " + id));
    }
    json shown = without_keys(*created, opts.show_keys);
    if (opts.json) {
        ctx.io.out << shown.dump(2) << '\n';
    } else {
        ctx.io.out << "created " << (opts.edge ? "edge device " : "device ") << id << '\n';
    }
    return {};
}

Result<void> run_device_show(const DeviceShowOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(std::string id, iothub::check_device_id(opts.id));
    EDGESHIP_TRY_ASSIGN(iothub::HubClient& hub, open_hub(opts.hub, ctx));
    EDGESHIP_TRY_ASSIGN(auto d, hub.get_device(id));
    json shown = without_keys(d, opts.show_keys);
    if (opts.json) {
        ctx.io.out << shown.dump(2) << '\n';
    } else {
        print_device(shown, ctx.io.out);
    }
    return {};
}

Result<void> run_device_list(const DeviceListOptions& opts, Context& ctx) {
    EDGESHIP_TRY_ASSIGN(iothub::HubClient& hub, open_hub(opts.hub, ctx));
    std::string sql = "SELECT * FROM devices";
    if (opts.edge_only) {
        sql += " WHERE capabilities.iotEdge = true";
    }
    json devices = json::array();
    EDGESHIP_TRY(hub.query(sql, opts.page_size, [&](const json& d) -> Result<void> {
        if (opts.top == 0 || static_cast<int>(devices.size()) < opts.top) {
            devices.push_back(d);
        }
        return {};
    }));
    if (opts.json) {
        ctx.io.out << devices.dump(2) << '\n';
        return {};
    }
    if (devices.empty()) {
        ctx.console.info("no devices");
        return {};
    }
    ctx.io.out << "DEVICE ID\tEDGE\tSTATUS\tCONNECTION\n";
    for (const auto& d : devices) {
        ctx.io.out << text(d, "deviceId") << '\t' << (is_edge(d) ? "yes" : "no") << '\t' << text(d, "status") << '\t'
                   << text(d, "connectionState") << '\n';
    }
    return {};
}

} // namespace edgeship::cli
