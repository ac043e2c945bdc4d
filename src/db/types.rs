//! The domain's closed vocabularies (`domain::vocabulary!` enums) read and written as the text
//! columns that store them: a value the enum does not know is a decoding error, so a row the
//! schema's check constraints let through always maps to a value.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

use crate::domain::account::{Role, Status};
use crate::domain::listing::RevisionState;
use crate::domain::moderation::{AppealState, Hold, ItemKind, ItemState};
use crate::domain::platform::{AgencyKind, DecisionKind, EnterpriseRole, Kind, Pillar};

macro_rules! text_columns {
    ($($name:ty),+ $(,)?) => {$(
        impl Type<Postgres> for $name {
            fn type_info() -> PgTypeInfo {
                <&str as Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as Type<Postgres>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Postgres> for $name {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<Postgres>>::decode(value)?;
                <$name>::parse(text).ok_or_else(|| format!("unknown {} {text:?}", stringify!($name)).into())
            }
        }

        impl Encode<'_, Postgres> for $name {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Postgres>>::encode_by_ref(&self.as_str(), buf)
            }
        }
    )+};
}

text_columns!(Role, Status, ItemKind, ItemState, AppealState, Hold, RevisionState, Kind, Pillar, EnterpriseRole, AgencyKind, DecisionKind);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_are_text_columns() {
        assert!(<Role as Type<Postgres>>::compatible(&<String as Type<Postgres>>::type_info()));
        assert_eq!(<ItemState as Type<Postgres>>::type_info(), <&str as Type<Postgres>>::type_info());
    }
}
