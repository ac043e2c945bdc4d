//! The closed vocabularies of the catalogue, each mirrored by a check constraint in the schema.
//! `as_str` is the stored value and the URL filter value; `label_key` is the translation key
//! (see [`vocabulary!`](crate::domain)).

vocabulary!(
    /// What kind of platform a listing is.
    Kind, "kind", {
        National => "national",
        PotentialNational => "potential_national",
        CitizenServing => "citizen_serving",
        MinistryDeployed => "ministry_deployed",
        SectorShared => "sector_shared",
    }
);

vocabulary!(
    /// The pillar of the digital transformation a platform serves.
    Pillar, "pillar", {
        Government => "government",
        Economy => "economy",
        Society => "society",
    }
);

vocabulary!(
    /// Where a platform is in its life: the `status` filter also accepts the recognition states.
    Status, "status", {
        Registered => "registered",
        Trial => "trial",
        InUse => "in_use",
        Recognised => "recognised",
        Revoked => "revoked",
    }
);

vocabulary!(
    /// The part an enterprise plays for a platform.
    EnterpriseRole, "role", {
        Core => "core",
        Lead => "lead",
        Developer => "developer",
        Operator => "operator",
    }
);

vocabulary!(
    /// What kind of body an agency is.
    AgencyKind, "agency_kind", {
        Ministry => "ministry",
        GovernmentAgency => "government_agency",
        Province => "province",
        MicUnit => "mic_unit",
        Association => "association",
        StateEnterprise => "state_enterprise",
        Other => "other",
    }
);

vocabulary!(
    /// The outcome a recorded decision states.
    DecisionKind, "decision_kind", {
        Recognition => "recognition",
        Revocation => "revocation",
        NotRecognised => "not_recognised",
    }
);

impl Status {
    /// Whether the status is a recognition state (column `recognition`) rather than a lifecycle one.
    pub fn is_recognition(self) -> bool {
        matches!(self, Self::Recognised | Self::Revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_text() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(*kind));
        }
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(*status));
        }
        assert_eq!(Kind::parse("NATIONAL"), None);
        assert_eq!(Kind::National.label_key(), "kind.national");
    }
}
