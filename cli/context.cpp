#include "cli/context.hpp"

#include "cli/registry_flags.hpp"
#include "edgeship/version_info.hpp"
#include "http/client.hpp"
#include "iothub/connect.hpp"
#include "solution/layout.hpp"

namespace edgeship::cli {

Result<iothub::HubClient*> Context::hub() {
    if (!m_hub) {
        EDGESHIP_TRY_ASSIGN(auto client,
                            iothub::connect(config, {http::default_user_agent(build_info::k_version), console.logger()}));
        m_hub = std::make_shared<iothub::HubClient>(std::move(client));
    }
    return m_hub.get();
}

Result<registry::Clients*> Context::registries(const RegistryFlags& flags, const std::string& explicit_host) {
    if (!m_registries) {
        const auto& solution = config.solution_env();
        EDGESHIP_TRY_ASSIGN(m_registries, registry_clients(*this, flags, explicit_host, solution.empty() ? nullptr : &solution));
    }
    return m_registries.get();
}

Result<void> use_solution_env(Context& ctx, const std::filesystem::path& dir) {
    EDGESHIP_TRY_ASSIGN(auto env, solution::load_env(dir, ctx.env));
    if (env.env_file_found) {
        ctx.config.set_solution_layer(env.dotenv, env.env_file.string());
    }
    return {};
}

} // namespace edgeship::cli
