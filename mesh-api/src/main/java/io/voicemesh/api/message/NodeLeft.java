package io.voicemesh.api.message;

import io.voicemesh.api.Role;
import java.util.List;

/** A cluster member went away (crashed, killed, partitioned or stopped): its node name and roles. */
public record NodeLeft(String node, List<String> roles) {

  public boolean had(Role role) {
    return roles != null && roles.contains(role.id());
  }
}
